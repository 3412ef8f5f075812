# One image for every service; the command picks the service. Configuration comes only from the environment.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY common ./common
COPY gateway ./gateway
COPY lab_service ./lab_service
COPY pharmacy_service ./pharmacy_service
COPY billing_service ./billing_service
COPY seeds ./seeds
COPY manage.py ./
RUN pip install --no-cache-dir .
ENV APP_ENV=production BIND_HOST=0.0.0.0 VAR_DIR=/var/lib/hospital
# Local state (the gateway's audit spool, pid and heartbeat files); a volume mounted here keeps this owner.
RUN mkdir -p /var/lib/hospital && chown nobody /var/lib/hospital
USER nobody

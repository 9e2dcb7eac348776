# iso20k-sync service image. Build: docker build -t iso20k-sync .
# Run:   docker run --rm -v "$PWD/out:/data" iso20k-sync plan --start 2027-01-04 -f xlsx -o /data/plan.xlsx
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 iso20k
WORKDIR /app
COPY pyproject.toml README.md ./
COPY iso20k_sync ./iso20k_sync
COPY connectors ./connectors
COPY plan_templates ./plan_templates
RUN pip install . && rm -rf /root/.cache

USER iso20k
WORKDIR /data
ENTRYPOINT ["iso20k-sync"]
CMD ["--help"]

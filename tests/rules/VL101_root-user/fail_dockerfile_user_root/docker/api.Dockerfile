FROM grafana/grafana:11.2.0
USER root
COPY provisioning/ /etc/grafana/provisioning/

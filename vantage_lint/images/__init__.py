"""What vantage-lint knows about the images a service runs: the shipped table of known images
(``known``), the Dockerfile of a ``build:`` service (``dockerfile``, ``build``) and what the two
say together about the process's user and healthcheck (``facts``)."""

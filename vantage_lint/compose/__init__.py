"""Docker Compose input: YAML loading, interpolation, .env files, merging and the service model."""

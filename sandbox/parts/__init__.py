"""The real parts the simulated systems share: HTTP plumbing, PostgreSQL, the container
engine, moto, DNS, and the run's one set of them (``shared.Parts``). Nothing here knows
which system uses it."""

"""The embedded AWS: moto's server with the project's stricter emulation, and fault injection."""

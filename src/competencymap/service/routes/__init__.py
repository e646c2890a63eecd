"""HTTP routes, one module per area. Each module exposes `router`."""

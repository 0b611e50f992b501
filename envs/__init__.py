"""advisorgym environments."""

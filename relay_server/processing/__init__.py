"""Audio processing after confirm: decode, normalise, compute features (embedding)."""

"""One file per model. Each exposes a config dataclass, a network and a ModelSpec."""

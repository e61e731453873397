"""SyDES mini: the SyDES model (arXiv 2509.15540), its five losses and two-stage training."""
from .config import Config, get_config
from .labels import LABELS, TASKS

__all__ = ["Config", "get_config", "LABELS", "TASKS"]
__version__ = "0.1.0"

"""The SyDES model, one module per component (paper 3.2, 3.3.3)."""
from .clip import WeightsUnavailable, create_clip
from .sydes import ImageFeatures, SyDES, SyDESOutput, build_model, count_params

__all__ = ["SyDES", "SyDESOutput", "ImageFeatures", "build_model", "count_params", "create_clip",
           "WeightsUnavailable"]

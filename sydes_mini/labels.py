"""MSED label names in the authors' index order (SPEC "Data: MSED")."""

LABELS: dict[str, tuple[str, ...]] = {
    "sentiment": ("negative", "neutral", "positive"),
    "emotion": ("happiness", "sad", "neutral", "disgust", "anger", "fear"),
    "desire": ("vengeance", "curiosity", "social-contact", "family", "tranquility", "romance", "none"),
}
TASKS: tuple[str, ...] = ("desire", "emotion", "sentiment")


def num_classes(task: str) -> int:
    """K, the number of classes of a task."""
    if task not in LABELS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    return len(LABELS[task])

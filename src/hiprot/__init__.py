"""hiprot: a wearable IMU logger that measures hip internal rotation."""


def __getattr__(name: str) -> str:
    """``__version__``, looked up in the installed package's metadata when first asked for
    (importlib.metadata is slow to import, and most commands never need it)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("hiprot")
    except PackageNotFoundError:  # running from a source tree without installation
        value = "0+unknown"
    globals()["__version__"] = value
    return value

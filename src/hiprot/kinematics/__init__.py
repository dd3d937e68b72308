"""Joint angles from segment orientations: heading alignment, walking direction, ISB angles."""

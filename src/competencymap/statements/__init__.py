"""Free text into statements: segmentation, asset lines, the parts of a learning outcome."""

"""One module per engine; each exposes ENGINE and imports its package only when loaded."""

"""Version numbers: of the harness distribution, of the plugin API and of the result schema."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("salmu-harness")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

#: The plugin API this harness implements. Plugins declare the range they support, e.g. ">=1,<2".
PLUGIN_API_VERSION = "1.0"

#: Version of ``schemas/result.schema.json``, written into every result document.
RESULT_SCHEMA_VERSION = "1.0"

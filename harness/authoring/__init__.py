"""The plugin author kit: the conformance run, its pytest fixture and the plugin scaffolding."""

"""etude's reference components, registered as the built-in plugin."""

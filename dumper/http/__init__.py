"""The HTTP layer: a stdlib server, our router, thin handlers over the App facade, the static UI."""

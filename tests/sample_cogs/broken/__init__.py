"""A cog that fails while being imported, as a cog with a bug would."""

raise RuntimeError("this cog is broken on purpose")

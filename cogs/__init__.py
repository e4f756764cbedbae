"""The bot's features, one folder each. Enable them in the config's [cogs] enabled list."""

"""A cog whose setup function fails."""


def setup(bot, name):
    raise ValueError("setup failed on purpose")

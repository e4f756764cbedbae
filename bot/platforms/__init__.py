"""Platform adapters: console (the embedded default), Discord and Slack.

An adapter turns its platform's events into Invocations for the core, and the core's
Messages into what its platform shows. Cogs never import anything from here.
"""

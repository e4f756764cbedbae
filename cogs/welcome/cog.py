"""Step 5 of the ten: a member who joins the community is welcomed by DM, once.

The welcome says what the community is for, lists the ten steps with the commands that
start them (from the badges cog's journey, asked by name: `badges.journey`), and how to get
help. It goes through the outbox under a batch named for the member, so it is sent once
however often the join is delivered, across restarts too, and waits if their DMs are closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import setting
from bot.core import DomainEvent, Message, listener
from bot.core.cog import Cog

TEXTS = "welcome/welcome.j2"


@dataclass(frozen=True)
class WelcomeSettings:
    """[cogs.welcome] in the config."""

    send_dm: bool = setting(True, "Welcome each new member by direct message (once per member).")


class Welcome(Cog):
    """The welcome DM."""

    Settings = WelcomeSettings

    @listener("member.joined")
    async def welcome(self, event: DomainEvent) -> None:
        if not self.settings.send_dm or event.member is None:
            return
        platform = event.community.platform
        journey = await self.bot.ask("badges.journey", event.community, event.member, default={"steps": []})
        texts = self.bot.render(TEXTS, platform, member=event.member, community=event.community,
                                steps=journey["steps"])
        await self.bot.outbox.put(event.community, f"welcome:{event.member.id}",
                                  [(event.member, Message(title=texts["title"], text=texts["text"]))])

"""Step 1 of the ten: members share their experience on social media.

/share opens the share kit, seen only by the member: a few ready-to-post texts (each a
template under share/posts/, so a community adds or rewrites them), a button for their
badge graphic, and "I shared it", which records the step once and emits `share.completed`.
Moderators post an invitation with /share-prompt; its button opens the same kit for
whoever presses it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from bot.config import ConfigError, setting
from bot.core import Button, ButtonStyle, Channel, Cog, Field, Image, Invocation, Message, action, command, option
from bot.render.images import LEFT_OUT_NOTE, LEFT_OUT_TEMPLATE, FontChain, clusters
from cogs.share.badge import BadgeTexts, render_badge
from cogs.share.store import ShareStore

log = logging.getLogger(__name__)

POSTS = "share/posts/"
NAME_LIMIT = 200  # grapheme clusters drawn on a badge: more than any platform allows (Slack 80, Discord 32)


@dataclass(frozen=True)
class ShareSettings:
    """[cogs.share] in the config."""

    badge_background: str = setting(
        "", "An image (PNG or JPEG) to draw badges on, instead of the built-in art. Relative to the config file."
    )
    fonts: list[str] = setting(
        [], "Font files tried first when drawing names on badges, e.g. a CJK font for your community."
    )


class Share(Cog):
    """Ready-to-post texts, a badge graphic, and recording that a member shared."""

    emits = ("share.completed",)
    member_rows = {"share_offers": "member_id", "shares": "member_id"}

    Settings = ShareSettings

    async def cog_load(self) -> None:
        self.store = ShareStore(self.db, self.events)
        self.background = self._checked_background()
        self.fonts = FontChain.default(self._checked_fonts())
        # Badges are drawn on a worker thread, one at a time: Pillow's font objects are shared.
        self.drawing = asyncio.Lock()

    @command("share", help="Get ready-to-post texts and your badge graphic for social media")
    async def share(self, ctx: Invocation) -> None:
        await self._open_kit(ctx)

    @action("share:start")
    async def start(self, ctx: Invocation, value: str) -> None:
        """The button under a /share-prompt invitation: the same kit, for whoever pressed it."""
        await self._open_kit(ctx)

    @action("share:badge")
    async def badge(self, ctx: Invocation, value: str) -> None:
        drawn = self.bot.render("share/badge.j2", "image", name=_shorten(ctx.member.display_name),
                                date=self.clock.today())
        texts = BadgeTexts(drawn["headline"], drawn["name"], drawn["caption"], drawn["date"])
        async with self.drawing:
            png, left_out = await asyncio.to_thread(self._draw, texts)
        page = ctx.render("share/kit.j2")
        await ctx.reply_private(Message(
            text=page["badge_ready"],
            images=[Image(page["badge_filename"], png, description=page["badge_description"])],
        ))
        if left_out:
            note = ctx.render(LEFT_OUT_TEMPLATE, left_out="".join(left_out), left_out_count=len(left_out))
            await self.bot.outbox.put(ctx.community, LEFT_OUT_NOTE.format(member=ctx.member.id),
                                      [(ctx.member, Message(text=note["left_out"]))])

    @action("share:done")
    async def done(self, ctx: Invocation, value: str) -> None:
        first = await self.store.record_share(ctx.community, ctx.member, self.clock.now())
        await ctx.reply_private(ctx.render("share/thanks.j2")["first" if first else "again"])

    @command("share-prompt", help="Post an invitation to share in a channel, with a button", moderator=True)
    async def prompt(self, ctx: Invocation, channel: Channel = option("The channel to post the invitation in")) -> None:
        page = ctx.render("share/prompt.j2", channel=channel)
        await ctx.send_to(channel, Message(
            text=page["text"],
            buttons=[Button(page["button"], "share:start", style=ButtonStyle.PRIMARY)],
        ))
        await self.bot.audit.record(ctx.community, ctx.member, "share.prompt", target=f"#{channel.name}")
        await ctx.reply_private(page["posted"])

    async def _open_kit(self, ctx: Invocation) -> None:
        await self.store.record_offer(ctx.community, ctx.member, self.clock.now())
        page = ctx.render("share/kit.j2")
        posts = [ctx.render(name) for name in self.bot.templates.names(POSTS)]
        await ctx.reply_private(Message(
            title=page["title"],
            text=page["text"],
            fields=[Field(post["label"], post["text"]) for post in posts if post["text"]],
            buttons=[
                Button(page["button_badge"], "share:badge", style=ButtonStyle.SECONDARY),
                Button(page["button_done"], "share:done", style=ButtonStyle.SUCCESS),
            ],
        ))

    def _draw(self, texts: BadgeTexts) -> tuple[bytes, list[str]]:
        """On the worker thread: reading fonts and drawing both take a while. Also returns the
        characters of the name that no font has, which the badge leaves out."""
        left_out = self.fonts.missing(texts.name)
        if left_out:  # how many, never which: the log names no member and quotes nothing of theirs
            log.warning("%d character(s) of a name have no font and are left out of a badge graphic;"
                        " cogs.share.fonts adds fonts", len(left_out))
        return render_badge(texts, self.fonts, self.background), left_out

    def _checked_background(self) -> Path | None:
        if not self.settings.badge_background:
            return None
        path = self.config.path(self.settings.badge_background)
        try:
            with PILImage.open(path) as image:
                image.verify()
        except (OSError, UnidentifiedImageError) as exc:
            raise ConfigError(
                "cogs.share.badge_background",
                f"cannot use {path} as a background: {exc}",
                "give the path of a PNG or JPEG (relative to the config file), or leave it empty for the built-in art",
                self.config.source,
            ) from None
        return path

    def _checked_fonts(self) -> list[Path]:
        paths = [self.config.path(p) for p in self.settings.fonts]
        for index, path in enumerate(paths):
            if not path.is_file():
                raise ConfigError(
                    f"cogs.share.fonts[{index}]",
                    f"the font file {path} does not exist",
                    "give the path of a .ttf, .otf or .ttc file (relative to the config file), or remove it",
                    self.config.source,
                )
        return paths


def _shorten(name: str) -> str:
    """A badge draws a whole display name; only text longer than any platform allows is shortened."""
    parts = clusters(name.strip())
    return name.strip() if len(parts) <= NAME_LIMIT else "".join(parts[:NAME_LIMIT - 1]) + "…"

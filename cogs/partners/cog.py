"""Step 6 of the ten: members learn about the partner organisations.

A directory of partners (name, what they do, website, region, a contact for moderators,
a logo). Members list and search it with /partners and look at one with /partner NAME,
which also shows the partner's upcoming events when the events cog is on (asked by name,
`events.upcoming`, so neither cog imports the other). Moderators keep it up to date.
"""

from __future__ import annotations

from typing import Any

from bot.core import (Button, ButtonStyle, Community, Field, Invocation, Message, Refusal, action, command, option,
                      query)
from bot.core.cog import Cog
from bot.core.commands import closest
from bot.values import looks_like_link, web_address
from cogs.partners.store import Partner, PartnerStore

TEXTS = "partners/messages.j2"
LISTED = 25  # partners shown at once; more are reached by searching


class Partners(Cog):
    """The partner directory."""

    emits = ("partner.added", "partner.removed", "partner.viewed")
    member_mentions = {"partners": ("added_by",)}

    async def cog_load(self) -> None:
        self.store = PartnerStore(self.db)

    # -- members -------------------------------------------------------------------------

    @command("partners", help="List the partner organisations, all or by region or a word to look for")
    async def directory(self, ctx: Invocation, search: str | None = option(
            "A region, or a word to look for", max_length=100, autocomplete="searches")) -> None:
        partners = await self.store.all(ctx.community)
        if search:
            wanted = search.casefold().strip()
            in_region = [p for p in partners if p.region.casefold() == wanted]
            partners = in_region or [p for p in partners if wanted in f"{p.name} {p.description} {p.region}".casefold()]
        texts = ctx.render(TEXTS, partners=partners[:LISTED], more=max(0, len(partners) - LISTED),
                           search=search or "")
        await ctx.reply_private(Message(title=texts["directory_title"], text=texts["directory"]))

    @command("partner", help="Show one partner organisation and its upcoming events")
    async def show(self, ctx: Invocation, name: str = option("The partner's name", max_length=100,
                                                            autocomplete="names")) -> None:
        partner = await self._named(ctx, name)
        if partner is None:
            return
        await self.events.emit("partner.viewed", ctx.community, ctx.member, partner=partner.id)  # step 6 taken
        upcoming = await self.bot.ask("events.upcoming", ctx.community, ctx.member, partner.id, default=None)
        texts = ctx.render(TEXTS, partner=partner, upcoming=upcoming or [], events_on=upcoming is not None)
        fields = [Field(texts["label_region"], texts["region"], inline=True)] if partner.region else []
        if partner.website:
            fields.append(Field(texts["label_website"], texts["website"], inline=True))
        if upcoming is not None:
            fields.append(Field(texts["label_upcoming"], texts["upcoming"]))
        if ctx.member.is_moderator and partner.contact:
            fields.append(Field(texts["label_contact"], texts["contact"]))
        await ctx.reply_private(Message(title=texts["page_title"], text=texts["page"], fields=fields,
                                        thumbnail_url=partner.logo_url))

    async def names(self, ctx: Invocation, typed: str) -> list[str]:
        return [p.name for p in await self.store.all(ctx.community) if typed.casefold() in p.name.casefold()]

    async def searches(self, ctx: Invocation, typed: str) -> list[str]:
        partners = await self.store.all(ctx.community)
        regions = sorted({p.region for p in partners if p.region})
        return [s for s in [*regions, *(p.name for p in partners)] if typed.casefold() in s.casefold()]

    # -- moderators ----------------------------------------------------------------------

    @command("partner add", help="Add a partner organisation to the directory", moderator=True)
    async def add(self, ctx: Invocation,
                  name: str = option("Its name", max_length=100),
                  description: str | None = option("What it does, in a sentence or two", max_length=1000),
                  website: str | None = option("Its website, https://...", max_length=500, fits=looks_like_link),
                  region: str | None = option("Where it works, e.g. Ohio", max_length=100),
                  contact: str | None = option("Who to write to there (only moderators see it)", max_length=300),
                  logo: str | None = option("A link to its logo, https://...", max_length=500, fits=looks_like_link)) -> None:
        values = self._checked(ctx, {"name": name, "description": description, "website": website,
                                     "region": region, "contact": contact, "logo_url": logo})
        partner_id = await self.store.add(ctx.community, values, ctx.member.id, self.clock.now())
        texts = ctx.render(TEXTS, name=values["name"])
        if partner_id is None:
            await ctx.reply_private(texts["already_there"])
            return
        await self.events.emit("partner.added", ctx.community, ctx.member, partner=partner_id)
        await self.bot.audit.record(ctx.community, ctx.member, "partner.add", target=values["name"], partner=partner_id)
        await ctx.reply_private(texts["added"])

    @command("partner edit", help="Change what the directory says about a partner", moderator=True)
    async def edit(self, ctx: Invocation,
                   name: str = option("The partner's name now", max_length=100, autocomplete="names"),
                   new_name: str | None = option("A new name", max_length=100),
                   description: str | None = option("What it does", max_length=1000),
                   website: str | None = option("Its website, https://...", max_length=500, fits=looks_like_link),
                   region: str | None = option("Where it works", max_length=100),
                   contact: str | None = option("Who to write to there", max_length=300),
                   logo: str | None = option("A link to its logo, https://...", max_length=500, fits=looks_like_link)) -> None:
        partner = await self._named(ctx, name)
        if partner is None:
            return
        given = {"name": new_name, "description": description, "website": website, "region": region,
                 "contact": contact, "logo_url": logo}
        changes = self._checked(ctx, given, partial=True)
        texts = ctx.render(TEXTS, name=partner.name, new_name=changes.get("name", partner.name))
        if not changes:
            await ctx.reply_private(texts["nothing_to_change"])
        elif not await self.store.update(ctx.community, partner.id, changes, self.clock.now()):
            await ctx.reply_private(ctx.render(TEXTS, name=changes["name"])["already_there"])
        else:
            await self.bot.audit.record(ctx.community, ctx.member, "partner.edit", target=partner.name,
                                        partner=partner.id, changed=sorted(changes))
            await ctx.reply_private(texts["edited"])

    @command("partner remove", help="Take a partner out of the directory (asks first)", moderator=True)
    async def remove(self, ctx: Invocation, name: str = option("The partner's name", max_length=100,
                                                              autocomplete="names")) -> None:
        partner = await self._named(ctx, name)
        if partner is None:
            return
        texts = ctx.render(TEXTS, name=partner.name)
        await ctx.reply_private(Message(text=texts["remove_confirm"], buttons=[
            Button(texts["button_remove"], "partners:remove", str(partner.id), style=ButtonStyle.DANGER),
            Button(texts["button_keep"], "partners:keep", str(partner.id), style=ButtonStyle.SECONDARY),
        ]))

    @action("partners:remove", moderator=True)
    async def removed(self, ctx: Invocation, value: str) -> None:
        partner = await self.store.get(ctx.community, int(value))
        if partner is None or not await self.store.remove(ctx.community, partner.id):
            await ctx.reply_private(ctx.render(TEXTS)["already_removed"])
            return
        await self.events.emit("partner.removed", ctx.community, ctx.member, partner=partner.id)
        await self.bot.audit.record(ctx.community, ctx.member, "partner.remove", target=partner.name, partner=partner.id)
        await ctx.reply_private(ctx.render(TEXTS, name=partner.name)["removed"])

    @action("partners:keep", moderator=True)
    async def kept(self, ctx: Invocation, value: str) -> None:
        await ctx.reply_private(ctx.render(TEXTS)["kept"])

    # -- what other cogs may ask -----------------------------------------------------------

    @query("partners.find")
    async def find(self, community: Community, name: str) -> dict[str, Any] | None:
        """A partner by name (as typed, any case), without its contact; None if there is none."""
        partner = await self.store.named(community, name)
        return partner.public() if partner else None

    @query("partners.get")
    async def get(self, community: Community, partner_id: int) -> dict[str, Any] | None:
        partner = await self.store.get(community, partner_id)
        return partner.public() if partner else None

    @query("partners.names")
    async def all_names(self, community: Community) -> list[str]:
        return [p.name for p in await self.store.all(community)]

    # -- helpers -----------------------------------------------------------------------------

    async def _named(self, ctx: Invocation, name: str) -> Partner | None:
        partner = await self.store.named(ctx.community, name)
        if partner is None:
            known = [p.name for p in await self.store.all(ctx.community)]
            await ctx.reply_private(ctx.render(TEXTS, name=name, suggestion=closest(name, known))["not_found"])
        return partner

    @staticmethod
    def _checked(ctx: Invocation, values: dict[str, str | None], *, partial: bool = False) -> dict[str, str]:
        """The values trimmed; a Refusal saying what to change when one cannot be taken."""
        cleaned = {k: " ".join(v.split()) if k in ("name", "region") else v.strip()
                   for k, v in values.items() if v is not None}
        if (not partial or "name" in cleaned) and not cleaned.get("name"):
            raise Refusal(ctx.render(TEXTS)["name_empty"])
        for key in ("website", "logo_url"):
            if cleaned.get(key) and web_address(cleaned[key]) is None:
                raise Refusal(ctx.render(TEXTS, value=cleaned[key])[f"bad_{key}"], show_usage=True)
        return cleaned

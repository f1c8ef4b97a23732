"""Invented articles for the story tests (our own sentences, no third-party text)."""

from __future__ import annotations

import random

BOILER_A = (
    "Sign up for our morning briefing. Follow us on social media. "
    "Copyright 2025 Harbour Daily Media Group. All rights reserved."
)
BOILER_B = (
    "Read more: the latest from our Asia desk. Advertisement. "
    "This article was distributed by a partner agency and lightly edited by our staff."
)

SEAFOOD = (
    "About 1,850 North Korean workers have been employed since spring at four fish-processing "
    "plants in Hunchun, near the border with Russia, according to a report released on Tuesday "
    "by the Seoul-based Citizens' Alliance for Labour Rights. The group said the workers, most of "
    "them women in their twenties, peel shrimp and fillet pollock for up to fourteen hours a day. "
    "Investigator Park Min-seo said the plants supply squid and crab to exporters in Dalian that "
    "sell to supermarket chains abroad. Wages of about 2,300 yuan a month are paid to a North "
    "Korean trading company, Sobaeksu Trading, rather than to the workers themselves, the report "
    "says. Hunchun officials did not answer questions sent by email. United Nations sanctions "
    "adopted in 2017 ban member states from employing North Korean labourers, and the report "
    "estimates that the arrangement brings Pyongyang 41 million dollars a year. Park said "
    "interviews with eleven former workers described locked dormitories and confiscated "
    "passports, and that the group had shared its findings with the UN panel of experts."
)
SEAFOOD_EDITED_PARAGRAPH = (
    "A spokeswoman for one of the exporters said on Wednesday that the company had begun an "
    "audit of its suppliers and would end contracts with any plant that breaks the rules."
)

SEAFOOD_REWRITE = (
    "Pyongyang earns some 41 million dollars a year from roughly 1,850 of its citizens who "
    "process fish in Hunchun, a Chinese border city, a South Korean labour-rights group "
    "alleged. The Citizens' Alliance for Labour Rights, whose investigator Park Min-seo spoke "
    "to eleven women who used to work there, found shifts of fourteen hours and wages of "
    "2,300 yuan handed to Sobaeksu Trading. Seafood from the plants reaches buyers through "
    "Dalian, the group found."
)

# Our own retellings of SEAFOOD above: the same names and figures,
# none of its sentences.
SEAFOOD_ES = (
    "Unas 1.850 trabajadoras norcoreanas pelan gambas y limpian abadejo hasta catorce horas "
    "al día en cuatro plantas de Hunchun, junto a la frontera rusa, según la Alianza "
    "Ciudadana por los Derechos Laborales, con sede en Seúl. El investigador Park Min-seo "
    "afirma que los sueldos, unos 2.300 yuanes al mes, se pagan a la empresa Sobaeksu "
    "Trading y no a las trabajadoras. El pescado llega a exportadores de Dalian. Pyongyang "
    "ingresaría así 41 millones de dólares al año, en contra de las sanciones de la ONU."
)
SEAFOOD_DE = (
    "Rund 1.850 Nordkoreanerinnen arbeiten seit dem Frühjahr in vier Fischfabriken der "
    "Grenzstadt Hunchun, berichtet eine Arbeitsrechtsgruppe aus Seoul. Die Frauen schälen "
    "demnach bis zu vierzehn Stunden am Tag Garnelen und filetieren Seelachs. Ihr Lohn von "
    "etwa 2.300 Yuan im Monat gehe an eine Handelsfirma und nicht an die Arbeiterinnen "
    "selbst. Nach Schätzung der Gruppe bringt das dem Regime jährlich 41 Millionen Dollar "
    "ein. Die Fabriken beliefern Exporteure in Dalian, die an Supermärkte im Ausland "
    "verkaufen."
)
# Another event of the same topic and day, in French: it names Hunchun and Dalian too.
WAREHOUSE_FIRE_FR = (
    "Un incendie a détruit mardi un entrepôt frigorifique de Hunchun où travaillaient des "
    "ouvriers nord-coréens, selon la télévision locale. Quelque 120 pompiers ont lutté "
    "pendant six heures contre les flammes, et trois personnes ont été blessées. "
    "L'entrepôt appartenait à un négociant de Dalian, Haixing Cold Chain, qui n'a pas "
    "répondu aux questions. La police de Yanbian enquête sur un court-circuit."
)


IT_WORKERS = (
    "Prosecutors in Virginia charged three men on Tuesday with helping North Korean IT "
    "workers obtain remote jobs at 64 American technology firms using stolen identities. "
    "According to the indictment, the scheme ran laptop farms in Nashville and Phoenix "
    "and funnelled 6.8 million dollars to Pyongyang between 2021 and 2024. The workers, "
    "believed to be based in Shenyang and Vladivostok, used the aliases Jason Lee and Tony "
    "Marsh, investigators said. The Justice Department said the money helps fund the "
    "weapons programmes of North Korea in violation of United Nations sanctions, and offered "
    "a reward of 5 million dollars for information on the organisers, Ri Chol-ung and Han "
    "Song-il. Defence lawyers for the three men did not respond to requests for comment."
)

_COMMON = (
    "North Korea",
    "Pyongyang",
    "Russia",
    "Kim Jong Un",
    "United Nations",
    "China",
    "Seoul",
    "South Korea",
)
_FIRST = ("Lee", "Choi", "Jung", "Kang", "Yoon", "Jang", "Lim", "Han", "Oh", "Seo")
_PLACES = ("Tomsk", "Kazan", "Irkutsk", "Omsk", "Yakutsk", "Chita", "Perm", "Samara")


_VOCAB_TEXT = """
    officials inspectors said recorded quarter plans markets harbour trucks rail freight
    budget council court school hospital bridge clinic festival harvest engineers tariffs
    shipment warehouse contract farmers drivers teachers students weather storm flooding
    exports imports licence permits fines audit survey census pipeline airport terminal
"""
_VOCAB = tuple(_VOCAB_TEXT.split())


def background(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """``n`` distinct same-topic stories (title, text) that share only the topic's names."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        person = f"{rng.choice(_FIRST)} Sung-{chr(97 + i % 26)}{i}"
        place = f"{rng.choice(_PLACES)}{i}"
        figure = f"{rng.randint(100, 999)},{rng.randint(100, 999)}"
        filler = [" ".join(rng.choices(_VOCAB, k=12)) for _ in range(4)]
        common = rng.sample(_COMMON, 6)
        text = (
            f"{filler[0]} {place} {figure} {filler[1]}. {common[0]} {filler[2]} {common[1]} "
            f"{common[2]}. {person} {filler[3]} {common[3]}, {common[4]} and {common[5]}."
        )
        out.append((f"Report {i} from {place}", text))
    return out


def copy_of_seafood() -> str:
    """A syndicated copy: other boilerplate around it and one sentence replaced."""
    sentences = SEAFOOD.split(". ")
    sentences[5] = SEAFOOD_EDITED_PARAGRAPH.rstrip(".")
    return f"{BOILER_B}\n" + ". ".join(sentences) + f"\n{BOILER_A}"

"""The shipped config/topics.toml loads and separates its topic from the near misses.

The sentences are the tests' own, written for this purpose in each language.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from monitor.matching import Matcher, TopicsFile

CONFIG = Path(__file__).resolve().parent.parent / "config" / "topics.toml"
TOPIC = "nk-workers-abroad"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    topics = TopicsFile.model_validate(tomllib.loads(CONFIG.read_text(encoding="utf-8")))
    return Matcher.compile(topics.topic)


def verdict(matcher: Matcher, title: str, text: str = "") -> bool:
    return any(r.topic == TOPIC and r.matched for r in matcher.match(title, text))


POSITIVE = {
    "en": [
        "North Korean workers are being sent to Russia on student visas",
        "Thousands of labourers from North Korea toil on Russian construction sites",
        "Pyongyang dispatched workers to Chinese seafood plants despite the sanctions",
        "North Korean IT workers used false identities to land remote jobs at US firms",
        "N. Korea sends laborers to rebuild Kursk, Shoigu says",
        "Pyongyang will send 5,000 military construction workers to rebuild the Kursk region",
        "North Korean waitresses sing for diners at restaurants run by Pyongyang in Dandong",
        "Wages of DPRK workers in Mongolia go straight to the state",
        "North Korean restaurants in Vladivostok stay open despite UN resolution 2397",
        # general coverage: auxiliaries between demonym and verb, trades, IT staff
        "Thousands of North Koreans are still working on building sites in Russia",
        "North Korean plasterers and painters renovate flats in Moscow for cash",
        "A US firm unknowingly hired remote developers who were in fact IT workers for Pyongyang",
        "Prosecutors say the laptop farm let overseas operatives land remote jobs",
        "Mansudae Overseas Projects built statues and monuments across Africa",
        "Pyongyang earns money as North Korean developers pose as freelancers",
        "Giant North Korean statues keep appearing in Africa despite sanctions",
    ],
    "ko": [
        "북한 노동자들이 유학비자로 러시아 건설 현장에 파견됐다",
        "북한노동자 임금은 대부분 국가가 가져간다",
        "중국 수산물 가공 공장에서 일하는 북한 근로자 수천 명",
        "쿠르스크 재건에 북한 인력 투입 가능성",
        "북한의 정보기술(IT) 인력이 가짜 신분으로 미국 기업에 위장 취업했다",
        "북, ‘달러벌이 노동자’ 중동에 해외 파견",
        "블라디보스토크 식당에서 일하는 북한 여성 종업원들",
        "노동자 수천 명을 해외로 파견해 외화를 버는 북한",
        "북한, 러시아에 건설 인력 수천 명 파견",
    ],
    "ru": [
        "Северокорейские рабочие прибыли в Россию по учебным визам",
        "КНДР отправит в Курскую область военных строителей",
        "На стройках Владивостока работают рабочие из КНДР",
        "Шойгу обсудил в Пхеньяне привлечение рабочей силы из КНДР",
        "Айтишники из КНДР ищут удаленную работу под чужими именами",
        "Северокорейцы по-прежнему работают на стройках Подмосковья",
        "Из КНДР в Приморье прибыли сотни человек на заработки",
        "Граждан КНДР трудоустраивают в России под видом студентов",
        "Программисты из КНДР устраивались в западные компании",
        # logging camps, textile work, forced labour
        "В Амурской области северокорейцы заняты на лесозаготовках",
        "Лесопромышленные лагеря КНДР в Хабаровском крае снова заполнены",
        "Работницы из Северной Кореи шьют одежду на фабриках Приморья",
        "Принудительный труд граждан КНДР на российских стройках",
    ],
    "ja": [
        "北朝鮮の労働者がロシアの建設現場で働いている",
        "北朝鮮労働者、留学ビザで入国か",
        "中国の水産加工場で北朝鮮の女性労働者が働かされている",
        "北朝鮮の国外直営レストラン、制裁で経営難",
        "北朝鮮から派遣された勤労者がロシアの建設現場で就労している",
        "北朝鮮のIT技術者が偽名でリモートワークの仕事を得ていた",
    ],
    "zh": [
        "朝鲜劳工在中国丹东的海鲜加工厂工作",
        "大批朝鲜工人以学生签证赴俄罗斯建筑工地",
        "北韓勞工在俄羅斯伐木場工作",
        "马来西亚煤矿雇用朝鲜外劳",
        "朝鲜向海外输出劳动力赚取外汇",
        "朝鲜IT工人用假身份在美国公司远程工作",
        "北韓移工在俄羅斯建築工地工作",
        "俄罗斯远东的朝鲜伐木工生活艰苦",
    ],
    "de": [
        "Nordkoreanische Arbeiter schuften auf russischen Baustellen",
        "Russland holt Arbeitskräfte aus Nordkorea – mit Studentenvisum",
        "Zwangsarbeit: Nordkoreaner in polnischen Werften",
        "Tausende Nordkoreaner arbeiten als Leiharbeiter in polnischen Werften",
        "In Polen schuften Nordkoreaner unter sklavenähnlichen Bedingungen",
        "Nordkoreanische IT-Fachkräfte arbeiten mit falschen Identitäten für US-Firmen",
        "Russland wirbt Fachkräfte aus Nordkorea für den Wohnungsbau an",
        "Nordkoreanische Näherinnen nähen in China Kleidung für europäische Marken",
        "Forstarbeiter aus Nordkorea fällen Bäume im Fernen Osten Russlands",
    ],
    "fr": [
        "Des travailleurs nord-coréens envoyés en Russie avec des visas d'étudiant",
        "La Corée du Nord envoie des ouvriers reconstruire Koursk",
        "Main-d'œuvre nord-coréenne : les salaires confisqués par l'État",
        "Des informaticiens nord-coréens recrutés en télétravail sous une fausse identité",
        "Des entreprises américaines embauchent par erreur des développeurs nord-coréens",
        "Des Nord-Coréens envoyés à l'étranger travaillent comme esclaves",
        "Les salariés nord-coréens reversent leur paie au régime",
        "Des couturières nord-coréennes cousent pour des marques chinoises",
    ],
    "uk": [
        "Північнокорейські робітники працюють на будівництвах у Росії",
        "Росія завозить робітників з КНДР за студентськими візами",
        "КНДР працевлаштовувала тисячі ІТ-фахівців у компаніях США",
        "Amazon заблокував 1800 шукачів роботи з КНДР",
        "Північнокорейці працюють на будівництвах у Росії",
        "КНДР відправляє своїх громадян на заробітки до Росії",
        "Трудові мігранти з КНДР замінюють росіян на будовах",
        "Працівниці з КНДР шиють одяг на фабриках Китаю",
        "Лісозаготівлі на Далекому Сході: північнокорейські лісоруби повертаються",
    ],
    "bg": [
        "Севернокорейски работници пристигат в Русия със студентски визи",
        "Севернокорейски IT персонал работи тайно за фирми по света",
        "Русия внася работна сила от Северна Корея",
    ],
    "pl": [
        "Robotnicy z Korei Północnej pracowali w polskich stoczniach",
        "Północnokoreańscy robotnicy w Polsce: praca przymusowa",
        "Północnokoreańczycy pracują w polskich stoczniach",
        "Praca niewolnicza obywateli Korei Północnej w Rosji",
        "KRLD wysyła robotników do Rosji mimo sankcji",
        "Koreańczycy z Północy pracowali w szklarniach pod Warszawą",
        "Informatycy z Korei Płn. podszywali się pod Amerykanów, by dostać zdalną pracę",
        "Reżim w Pjongjangu zatrudnia szwaczki w chińskich fabrykach",
    ],
    "is": ["Norðurkóreskir verkamenn sendir til Rússlands"],
}

NEAR_MISS = {
    "en": [
        "North Korean troops are fighting in Kursk alongside Russian soldiers",
        "North Korea supplied millions of artillery shells to Russia",
        "Russia relies on migrant workers from Uzbekistan and Tajikistan",
        "South Korean workers abroad send record remittances home",
        "Chinese workers build a railway in Kenya",
        "The US tightened rules on student visas for international students",
        "North Korean hackers stole $1.5 billion in crypto from an exchange",
        "North Korea's ruling Workers' Party held a plenary meeting in Pyongyang",
        "North Korea vows to rebuild flood-hit areas and reconstruct homes",
        "North Korean workers at the Kaesong industrial park demand higher wages",
        "North Korean hackers posed as recruiters to lure crypto developers into fake interviews",
        "Russia and North Korea are working on closer military ties",
        "North Korean workers were mobilised into a shock brigade to build Pyongyang flats",
        "Kim Jong Un spoke at the Mansudae Assembly Hall",
        "Kim Jong Un unveiled a bronze statue of his father in Pyongyang",
        "North Korean soldiers died in Kursk, which Russia vows to rebuild",
    ],
    "ko": [
        "북한군이 쿠르스크에 파병됐다",
        "러시아, 중앙아시아 이주 노동자 단속 강화",
        "해외 한국인 노동자 송금 역대 최대",
        "미국 유학비자 발급 요건 강화",
        "북한 해커, 가상화폐 거래소에서 거액 탈취",
        "북한이탈주민 취업 지원 박람회 개최",
        "북 노동자, 평양 건설 돌격대 동원 기피",
        "북한, 노력동원으로 주민들에게 외화벌이 강요",
        "개성공단 북한 근로자 임금 인상 요구",
        "북한 해커, 개발자 노려 가짜 채용 면접",
        "경북 인력 파견 업체 단속, 해외 취업 사기 주의",
    ],
    "ru": [
        "Северокорейские военные воюют в Курской области",
        "Мигранты из Средней Азии — основа рабочей силы в России",
        "Шойгу прибыл в Пхеньян с рабочим визитом",
        "Студенческие визы в США станут дороже",
        "Северокорейские хакеры похитили криптовалюту",
        "Северокорейские хакеры: тысячи программистов работают на режим",
        "Северокорейцы воюют в Курской области",
        "КНДР экспортирует морепродукты в Китай в обход санкций",
        "Ким Чен Ын посетил рыбоперерабатывающий завод в Синпхо",
    ],
    "ja": [
        "北朝鮮兵がクルスクに派遣された",
        "韓国人労働者の海外派遣が増加",
        "北朝鮮のハッカー集団が暗号資産を窃取",
        "朝鮮人労働者の強制労働を巡る佐渡金山の展示",
        "北朝鮮が開城工団から労働者全員を撤収させた",
        "北朝鮮のハッカーが開発者を狙う",
        "北朝鮮がロシアに働きかけを強めている",
    ],
    "zh": [
        "朝鲜族工人在韩国打工",
        "中国工人在非洲修建铁路",
        "朝鲜向俄罗斯派遣军队",
        "美国收紧学生签证",
        "朝鲜黑客窃取加密货币",
        "中国工人在俄罗斯打工",
        "朝鲜族员工在韩国打工",
    ],
    "de": [
        "Nordkoreanische Soldaten kämpfen in Kursk",
        "Nordkoreas Arbeiterpartei tagt in Pjöngjang",
        "Nordkorea arbeitet an neuen Raketen, Russland und Nordkorea arbeiten zusammen",
        "Arbeitsmigranten aus Zentralasien in Russland",
        "Nordkoreanische Hacker greifen Entwickler mit gefälschten Jobangeboten an",
    ],
    "fr": [
        "Des soldats nord-coréens combattent à Koursk",
        "Des travailleurs sud-coréens expatriés au Moyen-Orient",
        "Des pirates nord-coréens ont volé des cryptomonnaies",
        "La Corée du Nord travaille sur un nouveau missile",
        "Des pirates nord-coréens ciblent des développeurs de cryptomonnaies",
        "La Corée du Nord a tiré un missile à longue distance",
    ],
    "uk": [
        "Північнокорейські військові воюють на Курщині",
        "Трудові мігранти з Центральної Азії в Росії",
        "Північнокорейці воюють на Курщині",
        "Шукачі роботи з України виїжджають до Польщі",
    ],
    "bg": ["Севернокорейски войници воюват в Курск"],
    "pl": [
        "Żołnierze z Korei Północnej walczą w obwodzie kurskim",
        "Hakerzy z Korei Północnej ukradli kryptowaluty warte miliard dolarów",
        "Korea Północna zwodowała okręt podwodny w stoczni w Sinpo",
        "Wizy studenckie dla cudzoziemców będą trudniejsze do uzyskania",
        "Pracownicy z Ukrainy i Kazachstanu w polskich stoczniach",
    ],
    "is": ["Norðurkóreskir hermenn berjast í Kúrsk"],
}


def test_config_loads_and_compiles(matcher: Matcher) -> None:
    assert TOPIC in matcher.topics


@pytest.mark.parametrize(
    ("lang", "sentence"), [(lang, s) for lang, ss in POSITIVE.items() for s in ss]
)
def test_positive(matcher: Matcher, lang: str, sentence: str) -> None:
    assert verdict(matcher, sentence), matcher.explain(sentence, "", TOPIC)


@pytest.mark.parametrize(
    ("lang", "sentence"), [(lang, s) for lang, ss in NEAR_MISS.items() for s in ss]
)
def test_near_miss(matcher: Matcher, lang: str, sentence: str) -> None:
    assert not verdict(matcher, sentence), matcher.explain(sentence, "", TOPIC)


def test_positive_in_body_with_neutral_title(matcher: Matcher) -> None:
    text = (
        "Officials in the region said on Monday that several hundred North Korean workers "
        "had arrived on student visas to work at construction sites."
    )
    assert verdict(matcher, "Regional news roundup", text)


def test_keyword_tags_recorded(matcher: Matcher) -> None:
    [result] = [
        r
        for r in matcher.match(
            "North Korean workers sent to Kursk",
            "They arrived on student visas; Shoigu promised construction jobs and wages.",
        )
        if r.topic == TOPIC
    ]
    tags = {k.tag for k in result.keywords}
    assert {"Kursk", "student visa", "Shoigu", "construction", "wages", "Russia"} - tags == {
        "Russia"
    }
    assert result.score > 0.5


def test_every_language_is_covered() -> None:
    required = {"en", "ko", "ru", "ja", "zh", "de", "fr", "uk"}
    assert required <= POSITIVE.keys() and required <= NEAR_MISS.keys()

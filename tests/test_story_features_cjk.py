"""Chinese and Japanese stories: character pairs and katakana names as story features.

Without spaces, the token pattern sees a whole clause as one "word", so two retellings
of one event in Chinese or Japanese shared no feature at all and never joined one
story. The texts here are our own, invented for the test.
"""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.story_features import jaccard_estimate as jaccard
from monitor.story_features import signature, strong_features, tokens
from monitor.story_index import StoryIndex
from monitor.story_settings import StoriesSettings

T = datetime(2026, 3, 3, tzinfo=UTC)

ZH_REPORT = (
    "俄罗斯建筑工地的朝鲜工人",
    "据韩国统一部周二发布的报告，约有2.3万名朝鲜工人以留学签证名义进入俄罗斯，在符拉迪沃斯托克"
    "的十二个建筑工地工作。报告称，这些工人每天工作十六小时，工资由平壤的贸易公司代收。统一部官员"
    "金成浩说，工人的护照被管理人员没收。",
)
ZH_RETOLD = (
    "韩国统一部：2.3万朝鲜人持留学签证赴俄务工",
    "韩国统一部报告指出，两万三千名朝鲜工人持留学签证前往俄罗斯，在符拉迪沃斯托克十二处建筑工地"
    "每天劳动十六个小时。官员金成浩表示，护照遭没收，工资被贸易公司上缴平壤。",
)
ZH_SAPPERS = (
    "朝鲜工兵赴库尔斯克排雷",
    "俄罗斯国防部周四表示，朝鲜派遣的一千名工兵已抵达库尔斯克州，协助清除地雷，预计排雷工作将持续"
    "三个月。国防部称，工兵将与俄罗斯部队一起在苏贾附近作业。",
)
ZH_SAPPERS_RETOLD = (
    "俄国防部：千名朝鲜工兵协助库尔斯克排雷",
    "据俄罗斯国防部消息，一千名朝鲜工兵周四抵达库尔斯克州苏贾附近，参与为期三个月的排雷工作。",
)
JA_REPORT = (
    "北朝鮮労働者、ウラジオストクの建設現場に",
    "韓国統一省は火曜日、約2.3万人の北朝鮮労働者が留学ビザでロシアに入国し、ウラジオストクの12の"
    "建設現場で働いていると発表した。労働者は1日16時間働き、賃金は平壌の貿易会社が受け取っている。",
)
JA_RETOLD = (
    "北朝鮮、留学ビザで労働者をロシアへ　韓国統一省",
    "韓国統一省の報告によると、北朝鮮は留学ビザを使い、2.3万人の労働者をロシアに送った。"
    "ウラジオストクの建設現場12カ所で1日16時間の労働を強いられているという。",
)
JA_SAPPERS = (
    "北朝鮮工兵、クルスクで地雷除去",
    "ロシア国防省は木曜日、北朝鮮の工兵1000人がクルスク州に到着し、地雷除去を支援していると"
    "発表した。作業は3カ月続く見通し。",
)


def _index(*articles: tuple[str, str]) -> StoryIndex:
    """Each article indexed as its own story (story id = position + 1)."""
    index = StoryIndex(StoriesSettings())
    for n, (title, text) in enumerate(articles, start=1):
        index.add(n, n, signature(title, text, T, T), T)
    return index


def _story_of(index: StoryIndex, article: tuple[str, str]) -> int | None:
    best = index.best_story(signature(*article, T, T))
    return best.story_id if best else None


def test_chinese_is_split_into_character_pairs_and_figures_stand_apart() -> None:
    toks = tokens("约有2.3万名朝鲜工人")
    assert toks == ["约有", "2.3", "万名", "名朝", "朝鲜", "鲜工", "工人"]
    assert "n:23000" in strong_features(toks)  # 2.3 ten-thousands, as "23,000" elsewhere
    assert {"l:朝鲜", "l:工人"} <= set(strong_features(toks))


def test_japanese_katakana_names_stay_whole_and_hiragana_is_dropped() -> None:
    features = strong_features(tokens("北朝鮮の労働者がウラジオストクに入国した"))
    assert "w:ウラジオストク" in features
    assert "l:北朝" in features and "l:労働" in features
    assert not any("の" in f or "が" in f for f in features)


def test_a_chinese_retelling_joins_its_story_and_not_the_other_one() -> None:
    index = _index(ZH_REPORT, ZH_SAPPERS)
    assert _story_of(index, ZH_RETOLD) == 1
    assert _story_of(index, ZH_SAPPERS_RETOLD) == 2


def test_a_japanese_retelling_joins_its_story_and_not_the_other_one() -> None:
    index = _index(JA_REPORT, JA_SAPPERS)
    assert _story_of(index, JA_RETOLD) == 1


def test_traditional_and_simplified_chinese_share_their_features() -> None:
    """A Taiwan or Hong Kong outlet writes the same words in Traditional characters."""
    traditional = "據韓國統一部週二發布的報告，約有2.3萬名朝鮮工人以留學簽證名義進入俄羅斯。"
    simplified = "据韩国统一部周二发布的报告，约有2.3万名朝鲜工人以留学签证名义进入俄罗斯。"
    a = strong_features(tokens(traditional))
    b = strong_features(tokens(simplified))
    assert a == b
    assert "l:朝鲜" in a and "l:签证" in a
    assert jaccard(signature("", traditional, T, T), signature("", simplified, T, T)) == 1.0


def test_kana_and_hangul_are_not_changed_by_the_chinese_fold() -> None:
    assert tokens("ウラジオストクの労働者") == ["ウラジオストク", "労働", "働者"]
    assert tokens("북한 노동자 파견") == ["북한", "노동자", "파견"]


def test_chinese_pairs_across_a_function_character_are_no_features() -> None:
    """ "金正恩紧抱北韩士兵的遗孤" gives "士兵" and the name's pairs, not "兵的" or "的遗":
    pairs that straddle two words would weigh like names."""
    feats = set(strong_features(tokens("金正恩紧抱北韩士兵的遗孤，他们在平壤")))
    assert {"l:金正", "l:正恩", "l:士兵", "l:遗孤", "l:平壤"} <= feats
    assert not {"l:兵的", "l:的遗", "l:他们", "l:们在", "l:在平"} & feats

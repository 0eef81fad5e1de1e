from django.template import Context, Template
from django.utils import translation

from events.models import Activity, Programme
from jubileum.lib.bilingual import pick


def _activity(**fields) -> Activity:
    return Activity(title="Open dag", summary="Kijken", **fields)


def test_english_where_written_else_dutch_marked_as_such():
    activity = _activity(title_en="Open day")
    title, summary = pick(activity, "title", "en"), pick(activity, "summary", "en")
    assert (title, title.lang) == ("Open day", "en")
    assert (summary, summary.lang) == ("Kijken", "nl")
    assert pick(activity, "title", "nl").lang == "nl"


def test_blank_english_counts_as_missing():
    activity = _activity(title_en="   ")
    assert pick(activity, "title", "en").lang == "nl"
    assert activity.missing_english() == ["title", "summary"]
    assert Programme(name="Eeuwfeest", name_en="Centenary").missing_english() == []


def test_template_marks_only_text_in_another_language():
    template = Template(
        '{% load bilingual %}{% with t=a|local:"title" s=a|local:"summary" %}'
        "<h1{{ t|lang_attr }}>{{ t }}</h1><p{{ s|lang_attr }}>{{ s }}</p>{% endwith %}"
    )
    activity = _activity(title_en="Open day")
    with translation.override("en"):
        assert template.render(Context({"a": activity})) == (
            '<h1>Open day</h1><p lang="nl">Kijken</p>'
        )
    with translation.override("nl"):
        assert template.render(Context({"a": activity})) == "<h1>Open dag</h1><p>Kijken</p>"


def test_lang_span_wraps_only_text_in_another_language_and_escapes_it():
    template = Template('{% load bilingual %}{{ a|local:"title"|lang_span }}')
    activity = Activity(title="Vuur & water", summary="Kijken")
    with translation.override("en"):
        assert template.render(Context({"a": activity})) == (
            '<span lang="nl">Vuur &amp; water</span>'
        )
        activity.title_en = "Fire & water"
        assert template.render(Context({"a": activity})) == "Fire &amp; water"
    with translation.override("nl"):
        assert template.render(Context({"a": activity})) == "Vuur &amp; water"

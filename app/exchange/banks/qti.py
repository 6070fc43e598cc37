"""A quiz as an IMS QTI 2.1 content package: imsmanifest.xml, the quiz as an assessmentTest, one assessmentItem file per item.

The test lists the items in the quiz's order in one section, answered together and in any order (as on
Alliance's quiz page), and sums their SCORE; a platform that imports tests gets the quiz whole, one that
imports items only takes the item resources.
"""

import io
import zipfile

import lxml.html
from lxml import etree

from app.content.catalog import Quiz
from app.content.item_types.matching import MatchingItem
from app.content.item_types.ordering import OrderingItem
from app.content.item_types.scenario import ScenarioItem
from app.content.item_types.tagged import ITEM_POINTS
from app.exchange.banks import mapping

QTI = "http://www.imsglobal.org/xsd/imsqti_v2p1"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
MD = "http://www.imsglobal.org/xsd/imsmd_v1p2"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
QTI_LOCATION = f"{QTI} http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_LOCATION = f"{CP} http://www.imsglobal.org/xsd/imscp_v1p1.xsd {MD} http://www.imsglobal.org/xsd/imsmd_v1p2p4.xsd"
#: The HTML our Markdown makes, all of which QTI's XHTML subset has; anything else keeps only its text.
_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "dl", "dt", "em", "h3", "h4", "hr", "li", "ol", "p", "pre",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul", "span", "div",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href"}, "th": {"scope"}, "sup": {"class"}}
#: The assessmentTest's path in the package (item hrefs inside it are relative to it).
TEST_FILE = "assessment.xml"
#: Zip entries get one fixed time, so the same quiz always makes the same package.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def _q(tag: str) -> str:
    return f"{{{QTI}}}{tag}"


def _sub(parent, tag: str, **attributes) -> etree._Element:
    return etree.SubElement(parent, _q(tag), {k.rstrip("_"): v for k, v in attributes.items()})


def _add_text(parent, text: str | None) -> None:
    if not text:
        return
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _copy(parent, node) -> None:
    """Copy one parsed HTML node into QTI's namespace, keeping only the tags and attributes QTI has."""
    if node.tag in _TAGS:
        allowed = _ATTRIBUTES.get(node.tag, set())
        element = _sub(parent, node.tag, **{k: v for k, v in node.attrib.items() if k in allowed})
        target = element
    else:
        target = parent
    _add_text(target, node.text)
    for child in node:
        if isinstance(child.tag, str):  # a comment keeps only the text after it
            _copy(target, child)
        _add_text(target, child.tail)


def html_into(parent, html: str) -> None:
    """Append an HTML fragment's content to a QTI element."""
    if not html.strip():
        return
    for fragment in lxml.html.fragments_fromstring(html.strip()):
        if isinstance(fragment, str):
            _add_text(parent, fragment)
        else:
            _copy(parent, fragment)
            _add_text(parent, fragment.tail)


def _number(value: float) -> str:
    return mapping.percent_text(value)


def _declarations(item_xml, cardinality: str, base_type: str, correct: list[str], mapped: dict[str, float] | None,
                  lower: float | None, upper: float | None) -> None:  # fmt: skip
    response = _sub(item_xml, "responseDeclaration", identifier="RESPONSE", cardinality=cardinality, baseType=base_type)
    correct_xml = _sub(response, "correctResponse")
    for value in correct:
        _sub(correct_xml, "value").text = value
    if mapped is not None:
        bounds = {"lowerBound": _number(lower)} if lower is not None else {}
        bounds |= {"upperBound": _number(upper)} if upper is not None else {}
        mapping_xml = _sub(response, "mapping", defaultValue="0", **bounds)
        for key, value in mapped.items():
            _sub(mapping_xml, "mapEntry", mapKey=key, mappedValue=_number(value))
    for name, default in (("SCORE", "0"), ("MAXSCORE", _number(ITEM_POINTS))):
        outcome = _sub(item_xml, "outcomeDeclaration", identifier=name, cardinality="single", baseType="float")
        _sub(_sub(outcome, "defaultValue"), "value").text = default
    _sub(
        item_xml,
        "outcomeDeclaration",
        identifier="FEEDBACK",
        cardinality=cardinality if cardinality != "ordered" else "single",
        baseType="identifier",
    )
    _sub(item_xml, "outcomeDeclaration", identifier="GENERAL", cardinality="single", baseType="identifier")


def _set(parent, outcome: str, expression: str, **attributes) -> etree._Element:
    setter = _sub(parent, "setOutcomeValue", identifier=outcome)
    return _sub(setter, expression, **attributes)


def _mapped_processing(item_xml, per_option_feedback: bool) -> None:
    """SCORE is the mapped response (0 when unanswered); FEEDBACK names the options chosen."""
    processing = _sub(item_xml, "responseProcessing")
    condition = _sub(processing, "responseCondition")
    unanswered = _sub(condition, "responseIf")
    _sub(_sub(unanswered, "isNull"), "variable", identifier="RESPONSE")
    _set(unanswered, "SCORE", "baseValue", baseType="float").text = "0"
    answered = _sub(condition, "responseElse")
    _set(answered, "SCORE", "mapResponse", identifier="RESPONSE")
    _set(answered, "GENERAL", "baseValue", baseType="identifier").text = "general"
    if per_option_feedback:
        _set(answered, "FEEDBACK", "variable", identifier="RESPONSE")


def _feedback(item_xml, outcome: str, identifier: str, html: str) -> None:
    if html.strip():
        html_into(
            _sub(item_xml, "modalFeedback", outcomeIdentifier=outcome, identifier=identifier, showHide="show"), html
        )


def _item_root(item, title: str) -> etree._Element:
    root = etree.Element(_q("assessmentItem"), nsmap={None: QTI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", QTI_LOCATION)
    for key, value in (("identifier", item.id), ("title", title), ("adaptive", "false"), ("timeDependent", "false")):
        root.set(key, value)
    return root


def _body(item_xml, item, interaction: str, **attributes) -> etree._Element:
    body = _sub(item_xml, "itemBody")
    if isinstance(item, ScenarioItem):
        html_into(_sub(body, "div"), mapping.vignette_html(item))
    interaction_xml = _sub(body, interaction, responseIdentifier="RESPONSE", **attributes)
    html_into(_sub(interaction_xml, "prompt"), item.prompt_html)
    return interaction_xml


def _choice_item(item, title: str, harmful_penalty: float) -> etree._Element:
    root = _item_root(item, title)
    if isinstance(item, ScenarioItem):
        fractions = {o.id: mapping.scenario_fraction(item, o, harmful_penalty) for o in item.options}
        correct, cardinality, max_choices, upper = (
            [o.id for o in item.options if o.grade == "best"],
            "single",
            "1",
            None,
        )
    else:
        fractions = {o.id: mapping.response_fraction(item, o.is_correct) for o in item.options}
        correct, cardinality, max_choices, upper = list(item.correct_ids), "multiple", "0", ITEM_POINTS
    points = {key: ITEM_POINTS * value / 100 for key, value in fractions.items()}
    # A scenario may go below zero (a harmful reply's penalty); ticks never take a score below zero.
    lower = min(0.0, *points.values()) if isinstance(item, ScenarioItem) else 0.0
    _declarations(root, cardinality, "identifier", correct, points, lower, upper)
    interaction = _body(root, item, "choiceInteraction", shuffle="false", maxChoices=max_choices)
    for option in item.options:
        html_into(_sub(interaction, "simpleChoice", identifier=option.id), option.text_html)
    _mapped_processing(root, per_option_feedback=True)
    for option in item.options:
        _feedback(root, "FEEDBACK", option.id, option.feedback_html)
    _feedback(root, "GENERAL", "general", getattr(item, "feedback_html", ""))
    return root


def _ordering_item(item: OrderingItem, title: str) -> etree._Element:
    root = _item_root(item, title)
    steps = [f"step-{index + 1}" for index in range(len(item.steps_html))]
    _declarations(root, "ordered", "identifier", steps, None, None, None)
    interaction = _body(root, item, "orderInteraction", shuffle="false")
    for position, step in mapping.shown_steps(item):
        html_into(_sub(interaction, "simpleChoice", identifier=f"step-{position}"), step)
    # Each step at its right place earns an equal share: QTI cannot count the longest run in order.
    processing = _sub(root, "responseProcessing")
    _set(processing, "SCORE", "baseValue", baseType="float").text = "0"
    share = _number(ITEM_POINTS / len(steps))
    for position, step in enumerate(steps, start=1):
        rule = _sub(_sub(processing, "responseCondition"), "responseIf")
        match = _sub(rule, "match")
        _sub(_sub(match, "index", n=str(position)), "variable", identifier="RESPONSE")
        _sub(match, "baseValue", baseType="identifier").text = step
        total = _set(rule, "SCORE", "sum")
        _sub(total, "variable", identifier="SCORE")
        _sub(total, "baseValue", baseType="float").text = share
    answered = _sub(_sub(processing, "responseCondition"), "responseIf")
    _sub(_sub(answered, "not"), "isNull").append(etree.Element(_q("variable"), identifier="RESPONSE"))
    _set(answered, "GENERAL", "baseValue", baseType="identifier").text = "general"
    _feedback(root, "GENERAL", "general", item.feedback_html)
    return root


def _matching_item(item: MatchingItem, title: str) -> etree._Element:
    root = _item_root(item, title)
    choices = {answer: f"answer-{index + 1}" for index, answer in enumerate(mapping.matching_choices(item))}
    pairs = [f"prompt-{index + 1} {choices[pair.answer]}" for index, pair in enumerate(item.pairs)]
    share = ITEM_POINTS / len(pairs)
    _declarations(root, "multiple", "directedPair", pairs, dict.fromkeys(pairs, share), 0.0, ITEM_POINTS)
    interaction = _body(root, item, "matchInteraction", shuffle="false", maxAssociations=str(len(pairs)))
    prompts = _sub(interaction, "simpleMatchSet")
    for index, pair in enumerate(item.pairs):
        html_into(
            _sub(prompts, "simpleAssociableChoice", identifier=f"prompt-{index + 1}", matchMax="1"), pair.prompt_html
        )
    answers = _sub(interaction, "simpleMatchSet")
    for answer, identifier in choices.items():
        _add_text(_sub(answers, "simpleAssociableChoice", identifier=identifier, matchMax="0"), answer)
    _mapped_processing(root, per_option_feedback=False)
    _feedback(root, "GENERAL", "general", item.feedback_html)
    return root


def item_xml(item, title: str, harmful_penalty: float = mapping.DEFAULT_HARMFUL_PENALTY) -> bytes:
    """One item as a QTI 2.1 assessmentItem document."""
    if isinstance(item, OrderingItem):
        root = _ordering_item(item, title)
    elif isinstance(item, MatchingItem):
        root = _matching_item(item, title)
    else:
        root = _choice_item(item, title, harmful_penalty)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def test_xml(quiz: Quiz, items: list) -> bytes:
    """The quiz as a QTI 2.1 assessmentTest: one section of its items, its SCORE the sum of theirs."""
    root = etree.Element(_q("assessmentTest"), nsmap={None: QTI, "xsi": XSI}, identifier=f"TEST-{quiz.id}")
    root.set("title", quiz.title)
    root.set(f"{{{XSI}}}schemaLocation", QTI_LOCATION)
    _sub(root, "outcomeDeclaration", identifier="SCORE", cardinality="single", baseType="float")
    part = _sub(root, "testPart", identifier="PART-1", navigationMode="nonlinear", submissionMode="simultaneous")
    section = _sub(part, "assessmentSection", identifier="SECTION-1", title=quiz.title, visible="true")
    for item in items:
        _sub(section, "assessmentItemRef", identifier=item.id, href=f"items/{item.id}.xml")
    total = _sub(_sub(root, "outcomeProcessing"), "setOutcomeValue", identifier="SCORE")
    _sub(_sub(total, "sum"), "testVariables", variableIdentifier="SCORE")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _langstring(parent, tag: str, text: str) -> None:
    holder = etree.SubElement(parent, f"{{{MD}}}{tag}")
    langstring = etree.SubElement(holder, f"{{{MD}}}langstring")
    langstring.set(XML_LANG, "en")
    langstring.text = text


def manifest(quiz: Quiz, items: list) -> bytes:
    """The package's imsmanifest.xml: the test's resource, depending on one item resource per item tagged with its competencies."""
    root = etree.Element(
        f"{{{CP}}}manifest", nsmap={None: CP, "imsmd": MD, "xsi": XSI}, identifier=f"MANIFEST-{quiz.id}"
    )
    root.set(f"{{{XSI}}}schemaLocation", CP_LOCATION)
    metadata = etree.SubElement(root, f"{{{CP}}}metadata")
    etree.SubElement(metadata, f"{{{CP}}}schema").text = "QTIv2.1 Package"
    etree.SubElement(metadata, f"{{{CP}}}schemaversion").text = "1.0.0"
    general = etree.SubElement(etree.SubElement(metadata, f"{{{MD}}}lom"), f"{{{MD}}}general")
    _langstring(general, "title", quiz.title)
    etree.SubElement(root, f"{{{CP}}}organizations")
    resources = etree.SubElement(root, f"{{{CP}}}resources")
    test = etree.SubElement(
        resources, f"{{{CP}}}resource", identifier="RES-TEST", type="imsqti_test_xmlv2p1", href=TEST_FILE
    )
    etree.SubElement(test, f"{{{CP}}}file", href=TEST_FILE)
    for item in items:
        etree.SubElement(test, f"{{{CP}}}dependency", identifierref=f"RES-{item.id}")
    for item in items:
        href = f"items/{item.id}.xml"
        resource = etree.SubElement(
            resources, f"{{{CP}}}resource", identifier=f"RES-{item.id}", type="imsqti_item_xmlv2p1", href=href
        )
        lom = etree.SubElement(etree.SubElement(resource, f"{{{CP}}}metadata"), f"{{{MD}}}lom")
        item_general = etree.SubElement(lom, f"{{{MD}}}general")
        _langstring(item_general, "title", f"{quiz.title}: {item.id}")
        for tag in mapping.tags(item):
            _langstring(item_general, "keyword", tag)
        etree.SubElement(resource, f"{{{CP}}}file", href=href)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def files(quiz: Quiz, harmful_penalty: float = mapping.DEFAULT_HARMFUL_PENALTY) -> dict[str, bytes]:
    """The package's files by path: the manifest first, then the test, then each item."""
    kept, _left_out = mapping.exportable(quiz)
    found = {"imsmanifest.xml": manifest(quiz, kept), TEST_FILE: test_xml(quiz, kept)}
    for item in kept:
        found[f"items/{item.id}.xml"] = item_xml(item, f"{quiz.title}: {item.id}", harmful_penalty)
    return found


def write(quiz: Quiz, harmful_penalty: float = mapping.DEFAULT_HARMFUL_PENALTY) -> bytes:
    """The package as zip bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for path, data in files(quiz, harmful_penalty).items():
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(info, data)
    return buffer.getvalue()

"""QTI 2.1 packages validated with lxml against the official IMS QTI 2.1 and IMS Content Packaging schemas.

The schemas are vendored under tests/data/schemas/ (see its README): nothing is fetched while validating.
"""

import io
import zipfile
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from app.content.item_types.multiple_response import MultipleResponseItem
from app.content.item_types.scenario import ScenarioItem
from app.exchange.banks import export, qti

SCHEMAS = Path(__file__).parent / "data" / "schemas"
QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False)


@cache
def schema(name: str) -> etree.XMLSchema:
    """An official schema, its imports resolved from the vendored copies only."""
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name), _parser()))


def _package(quiz) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(export(quiz, "qti21"))) as package:
        return {name: package.read(name) for name in package.namelist()}


def test_every_quiz_is_a_package_whose_manifest_and_items_are_valid_against_the_ims_schemas(catalog):
    item_schema, manifest_schema = schema("qtiv2p1/imsqti_v2p1.xsd"), schema("imscp_v1p1.xsd")
    for quiz in catalog.quizzes:
        files = _package(quiz)
        assert list(files) == ["imsmanifest.xml", "assessment.xml"] + [f"items/{item.id}.xml" for item in quiz.items]
        manifest = etree.fromstring(files["imsmanifest.xml"], _parser())
        assert manifest_schema.validate(manifest), f"{quiz.id} manifest: {manifest_schema.error_log}"
        hrefs = manifest.xpath("//cp:resource/@href", namespaces={"cp": qti.CP})
        assert hrefs == ["assessment.xml"] + [f"items/{item.id}.xml" for item in quiz.items]
        # The test resource depends on every item resource, and its item references open the item files.
        needs = manifest.xpath("//cp:resource[@type='imsqti_test_xmlv2p1']/cp:dependency/@identifierref", namespaces={"cp": qti.CP})
        assert needs == [f"RES-{item.id}" for item in quiz.items]
        test = etree.fromstring(files["assessment.xml"], _parser())
        assert item_schema.validate(test), f"{quiz.id} test: {item_schema.error_log}"
        assert test.tag == f"{QTI}assessmentTest" and test.get("title") == quiz.title
        refs = [(ref.get("identifier"), ref.get("href")) for ref in test.iter(f"{QTI}assessmentItemRef")]
        assert refs == [(item.id, f"items/{item.id}.xml") for item in quiz.items]
        assert all(etree.fromstring(files[href], _parser()).get("identifier") == ident for ident, href in refs)
        for item in quiz.items:
            document = etree.fromstring(files[f"items/{item.id}.xml"], _parser())
            assert item_schema.validate(document), f"{quiz.id}/{item.id}: {item_schema.error_log}"
            assert document.get("identifier") == item.id


def test_the_schemas_refuse_a_broken_test_so_the_check_can_fail(quiz):
    document = etree.fromstring(_package(quiz)["assessment.xml"], _parser())
    document.find(f"{QTI}testPart").attrib.pop("navigationMode")
    assert not schema("qtiv2p1/imsqti_v2p1.xsd").validate(document)


def test_the_schemas_refuse_a_broken_item_so_the_check_can_fail(quiz):
    document = etree.fromstring(_package(quiz)[f"items/{quiz.items[0].id}.xml"], _parser())
    document.find(f"{QTI}itemBody").insert(0, etree.Element(f"{QTI}choiceInteraction"))  # no responseIdentifier
    assert not schema("qtiv2p1/imsqti_v2p1.xsd").validate(document)


def _mapping(document) -> dict[str, float]:
    return {e.get("mapKey"): float(e.get("mappedValue")) for e in document.iter(f"{QTI}mapEntry")}


@pytest.mark.parametrize("penalty", [0, 50])
def test_choice_items_map_each_option_to_alliances_score(catalog, penalty):
    for quiz in catalog.quizzes:
        for item in quiz.items:
            if not isinstance(item, (ScenarioItem, MultipleResponseItem)):
                continue
            document = etree.fromstring(qti.item_xml(item, item.id, penalty), _parser())
            mapped = _mapping(document)
            bounds = document.find(f"{QTI}responseDeclaration/{QTI}mapping")
            if isinstance(item, ScenarioItem):
                expected = {
                    o.id: -item.max_score * penalty / 100
                    if o.grade == "harmful" and penalty
                    else item.handler.grade(item, o.id).score
                    for o in item.options
                }
                assert mapped == pytest.approx(expected)
                assert document.findtext(
                    f"{QTI}responseDeclaration/{QTI}correctResponse/{QTI}value"
                ) == item.handler.right_answer(item)
            else:
                # mapResponse adds the ticked options' values and clamps to [0, 2]: Alliance's rule.
                for mask in range(1, 2 ** len(item.options)):
                    ticked = [o.id for n, o in enumerate(item.options) if mask >> n & 1]
                    total = min(
                        max(sum(mapped[t] for t in ticked), float(bounds.get("lowerBound"))),
                        float(bounds.get("upperBound")),
                    )
                    assert total == pytest.approx(item.handler.grade(item, ticked).score, abs=1e-3)
            shown = [
                f.get("identifier")
                for f in document.iter(f"{QTI}modalFeedback")
                if f.get("outcomeIdentifier") == "FEEDBACK"
            ]
            assert shown == [o.id for o in item.options]

"""Walk the content folders: find files, read each with its kind's reader, collect every problem, build the catalog."""

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.content import markdown, quality, quality_banks
from app.content.authored_ids import is_authored
from app.content.catalog import Catalog, Competency, GlossaryTerm, Lesson, Module, Quiz
from app.content.conversations import Conversation
from app.content.module_reader import load_module
from app.content.observations import ObservationForm
from app.content.problems import ContentError, Problem, display_path
from app.content.quiz_reader import load_quiz
from app.content.yamlfile import load
from app.paths import shipped

COMPETENCIES_FILE = Path(__file__).with_name("competencies.yaml")


@dataclass
class _Found:
    """Content files discovered under the given folders."""

    module_files: list[Path] = field(default_factory=list)
    quiz_files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _discover(dirs: list[Path], explicit: frozenset[Path] = frozenset()) -> _Found:
    """Collect module.yaml and quiz files, accepting a content root, a modules or quizzes folder, or one module."""
    found = _Found()
    seen: set[Path] = set()

    def add(target: list[Path], path: Path) -> None:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            target.append(path)

    for folder in dirs:
        if not folder.is_dir():
            found.problems.append(Problem(display_path(folder), None, "no such folder"))
            continue
        before = len(found.module_files) + len(found.quiz_files)
        roots = [folder] if (folder / "modules").is_dir() or (folder / "quizzes").is_dir() else []
        for root in roots:
            for path in sorted((root / "modules").glob("*/module.yaml")):
                add(found.module_files, path)
            for path in sorted((root / "quizzes").glob("*.y*ml")):
                add(found.quiz_files, path)
        if not roots:
            if (folder / "module.yaml").is_file():
                add(found.module_files, folder / "module.yaml")
            for path in sorted(folder.glob("*/module.yaml")):
                add(found.module_files, path)
            for path in sorted(folder.glob("*.y*ml")):
                if path.name != "module.yaml":
                    add(found.quiz_files, path)
        if len(found.module_files) + len(found.quiz_files) == before and not roots and folder in explicit:
            found.problems.append(
                Problem(display_path(folder), None, "no content here: expected modules/*/module.yaml or quizzes/*.yaml")
            )
    return found


def load_competencies(path: Path = COMPETENCIES_FILE) -> tuple[Competency, ...]:
    """Read the packaged competency framework."""
    data = load(path)
    return tuple(Competency(c["id"], c["name"], c["description"]) for c in data["competencies"])


def _package_glossary(
    modules: list[Module], module_paths: dict[str, Path], term_uses: list[tuple[str, int, str]]
) -> tuple[dict[str, GlossaryTerm], list[Problem]]:
    """Every module's terms in one glossary; a term defined twice or linked but never defined is a problem."""
    glossary: dict[str, GlossaryTerm] = {}
    problems: list[Problem] = []
    for module in modules:
        for term in module.glossary:
            if term.id in glossary:
                other = display_path(module_paths[glossary[term.id].module_id])
                problems.append(
                    Problem(
                        display_path(module_paths[module.id]),
                        None,
                        f"the glossary term '{term.id}' is also defined by {other}",
                    )
                )
            else:
                glossary[term.id] = term
    for file, line, term_id in term_uses:
        if term_id not in glossary:
            problems.append(Problem(file, line, f"links [[{term_id}]], which no module's glossary defines"))
    return glossary, problems


def _name_terms(module: Module, glossary: dict[str, GlossaryTerm]) -> Module:
    """The module with each bare glossary link showing its term's name."""
    names = {term_id: term.term for term_id, term in glossary.items()}

    def lesson(item: Lesson) -> Lesson:
        sections = tuple(replace(s, html=markdown.name_terms(s.html, names)) for s in item.sections)
        return replace(item, intro_html=markdown.name_terms(item.intro_html, names), sections=sections)

    return replace(module, lessons=tuple(lesson(item) for item in module.lessons))


def _declared_id(path: Path) -> str:
    """The id a module file declares, read leniently from a file that may be invalid."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return path.parent.name
    match = re.search(r"^id:\s*['\"]?([A-Za-z0-9-]+)", text, re.M)
    return match.group(1) if match else path.parent.name


@dataclass
class Loaded:
    """All content under some folders: the catalog (None when there are errors), every problem and
    warning, and each valid quiz's and conversation's options as the item-quality rules read them."""

    catalog: Catalog | None
    problems: list[Problem]
    banks: list[quality_banks.Bank]

    @property
    def errors(self) -> list[Problem]:
        """The problems that make the content invalid (warnings left out)."""
        return [p for p in self.problems if not p.is_warning]


def build_catalog(
    dirs: list[Path], competencies: tuple[Competency, ...] | None = None, explicit: frozenset[Path] = frozenset()
) -> Catalog:
    """Load and validate all content under `dirs`; raise ContentError listing every error (warnings pass).

    A folder in `explicit` (named by the user) with no content in it is a problem too.
    """
    loaded = load_content(dirs, competencies, explicit)
    if loaded.catalog is None:
        raise ContentError(loaded.errors)
    return loaded.catalog


def load_content(
    dirs: list[Path], competencies: tuple[Competency, ...] | None = None, explicit: frozenset[Path] = frozenset()
) -> Loaded:
    """Load and validate all content under `dirs`, collecting every problem and warning; never raises."""
    competencies = competencies or load_competencies()
    competency_ids = frozenset(c.id for c in competencies)
    found = _discover(dirs, explicit)
    problems = list(found.problems)
    modules: list[Module] = []
    module_paths: dict[str, Path] = {}
    invalid_module_ids: set[str] = set()
    term_uses: list[tuple[str, int, str]] = []
    for path in found.module_files:
        module, module_problems, module_term_uses = load_module(path, competency_ids)
        problems.extend(module_problems)
        term_uses.extend(module_term_uses)
        if module is None:
            invalid_module_ids.add(_declared_id(path))
            continue
        if module.id in module_paths:
            problems.append(
                Problem(
                    display_path(path),
                    1,
                    f"the module id '{module.id}' is also used by {display_path(module_paths[module.id])}",
                )
            )
            continue
        module_paths[module.id] = path
        modules.append(module)
    quizzes: list[Quiz] = []
    talks: list[Conversation] = []
    forms: list[ObservationForm] = []
    quiz_paths: dict[str, Path] = {}
    banks: list[quality_banks.Bank] = []
    for path in found.quiz_files:
        quiz, module_line, quiz_problems, bank = load_quiz(path, competency_ids)
        problems.extend(quiz_problems)
        if quiz is None:
            continue
        if is_authored(quiz.id) and path.resolve().is_relative_to(shipped("quizzes").resolve()):
            # Reserved for quizzes written in the browser (app/content/authored_ids.py): the two must never collide.
            problems.append(Problem(display_path(path), 1, f"the id '{quiz.id}' is reserved for authored quizzes (a-<number>-...)"))
            continue
        if quiz.id in quiz_paths:
            problems.append(
                Problem(
                    display_path(path),
                    1,
                    f"the quiz id '{quiz.id}' is also used by {display_path(quiz_paths[quiz.id])}",
                )
            )
            continue
        if quiz.module_id in invalid_module_ids:
            continue  # its module's own problems are reported; saying it is missing would mislead
        if quiz.module_id not in module_paths:
            problems.append(
                Problem(
                    display_path(path),
                    module_line,
                    f"the quiz pairs with the module '{quiz.module_id}', which does not exist",
                )
            )
            continue
        quiz_paths[quiz.id] = path
        if isinstance(quiz, ObservationForm):
            forms.append(quiz)  # observed, not answered: no item-quality bank
            continue
        (talks if isinstance(quiz, Conversation) else quizzes).append(quiz)
        banks.append(bank)
    glossary, glossary_problems = _package_glossary(modules, module_paths, term_uses)
    problems.extend(glossary_problems)
    problems.extend(quality.enforced(quality.review(banks)))
    if any(not p.is_warning for p in problems):
        return Loaded(None, problems, banks)
    modules = [_name_terms(module, glossary) for module in modules]
    modules.sort(key=lambda m: (m.order, m.title))
    order = {m.id: i for i, m in enumerate(modules)}
    quizzes.sort(key=lambda q: (order[q.module_id], q.title))
    talks.sort(key=lambda c: (order[c.module_id], c.title))
    forms.sort(key=lambda f: (order[f.module_id], f.title))
    catalog = Catalog(
        competencies=competencies,
        modules=tuple(modules),
        quizzes=tuple(quizzes),
        conversations=tuple(talks),
        observations=tuple(forms),
    )
    return Loaded(catalog, problems, banks)


def check_dirs(dirs: list[Path], explicit: frozenset[Path] = frozenset()) -> list[Problem]:
    """Every error in the content under `dirs` (empty when it is valid; warnings are left out)."""
    return sorted(load_content(dirs, explicit=explicit).errors, key=Problem.sort_key)

"""Each kind of bad template is refused with a message naming the file, line, YAML path and problem."""

from __future__ import annotations

import pytest

from iso20k_sync.errors import InputError
from iso20k_sync.instantiate import instantiate
from iso20k_sync.template import load_template

from .conftest import HEADER, MONDAY, TEXTBOOK


def _problems(path) -> str:
    with pytest.raises(InputError) as caught:
        instantiate(load_template(path), MONDAY)
    return str(caught.value)


def _with_tasks(tasks: str) -> str:
    return HEADER + "phases:\n  - id: p\n    name: P\n    tasks:\n" + tasks


def test_the_textbook_template_is_valid(write_template):
    assert len(load_template(write_template(TEXTBOOK)).tasks()) == 9


def test_unknown_dependency(write_template):
    path = write_template(
        _with_tasks(
            "      - {id: a, name: A, duration: 1}\n"
            "      - {id: b, name: B, duration: 1, depends_on: [a, zz]}\n"
        )
    )
    message = _problems(path)
    assert f"{path}:18: phases[0].tasks[1].depends_on[1]: unknown task 'zz'" in message


def test_dependency_cycle_prints_the_cycle(write_template):
    path = write_template(
        _with_tasks(
            "      - {id: a, name: A, duration: 1, depends_on: [c]}\n"
            "      - {id: b, name: B, duration: 1, depends_on: [a]}\n"
            "      - {id: c, name: C, duration: 1, depends_on: [b]}\n"
            "      - {id: d, name: D, duration: 1, depends_on: [a]}\n"
        )
    )
    message = _problems(path)
    assert "dependency cycle" in message
    assert "a -> b -> c -> a" in message
    assert str(path) in message


def test_duplicate_task_id_names_both_places(write_template):
    path = write_template(
        _with_tasks("      - {id: a, name: A, duration: 1}\n      - {id: a, name: Again, duration: 2}\n")
    )
    message = _problems(path)
    assert "phases[0].tasks[1].id: duplicate task id 'a' (first used at phases.0.tasks.0)" in message


def test_negative_duration_literal_and_from_an_expression(write_template):
    literal = write_template(_with_tasks("      - {id: a, name: A, duration: -3}\n"), "literal.yaml")
    assert "phases[0].tasks[0].duration: negative duration -3" in _problems(literal)
    computed = write_template(_with_tasks("      - {id: a, name: A, duration: 'staff - 500'}\n"), "expr.yaml")
    assert "phases[0].tasks[0].duration: negative duration: 'staff - 500' gives -400" in _problems(computed)


def test_unknown_cost_category(write_template):
    path = write_template(
        _with_tasks("      - {id: a, name: A, duration: 1, costs: [{category: travel, amount: 10}]}\n")
    )
    message = _problems(path)
    assert "phases[0].tasks[0].costs[0].category:" in message
    assert "'consulting', 'certification', 'training', 'materials', 'tools' or 'internal'" in message


def test_unknown_role_in_effort(write_template):
    path = write_template(_with_tasks("      - {id: a, name: A, duration: 1, effort: {auditor: 2}}\n"))
    assert "phases[0].tasks[0].effort.auditor: unknown role 'auditor'; expected one of consultant, pm" in (
        _problems(path)
    )


def test_milestone_with_duration_or_effort(write_template):
    path = write_template(
        _with_tasks(
            "      - {id: a, name: A, duration: 2}\n"
            "      - {id: m, name: Gate, milestone: true, duration: 3, depends_on: [a]}\n"
            "      - {id: n, name: Gate 2, milestone: true, effort: {pm: 1}, depends_on: [a]}\n"
        )
    )
    message = _problems(path)
    assert "phases[0].tasks[1].duration: milestone 'm' has a duration" in message
    assert "phases[0].tasks[2].effort: milestone 'n' has effort" in message


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2 *", "cannot parse expression"),
        ("__import__('os').system('true')", "unknown function"),
        ("staff.__class__", "Attribute is not allowed"),
        ("[x for x in (1, 2)]", "ListComp is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("headcount * 2", "unknown name(s) headcount"),
    ],
)
def test_bad_expressions_are_refused_without_running_them(write_template, expression, expected):
    path = write_template(_with_tasks(f'      - {{id: a, name: A, duration: "{expression}"}}\n'))
    message = _problems(path)
    assert "phases[0].tasks[0].duration" in message
    assert expected in message


def test_expression_that_fails_at_evaluation(write_template):
    path = write_template(_with_tasks("      - {id: a, name: A, duration: 'staff / (staff - 100)'}\n"))
    assert "phases[0].tasks[0].duration: cannot evaluate" in _problems(path)


def test_unknown_key_and_missing_key(write_template):
    path = write_template(_with_tasks("      - {id: a, duration: 1, colour: red}\n"))
    message = _problems(path)
    assert "phases[0].tasks[0].name: required key is missing" in message
    assert "phases[0].tasks[0].colour: unknown key" in message


def test_yaml_syntax_error_gives_the_line(write_template):
    path = write_template(TEXTBOOK + "      - {id: Z, name: [unclosed\n")
    message = _problems(path)
    assert f"{path}:" in message
    assert "not valid YAML" in message


def test_all_problems_are_reported_at_once(write_template):
    path = write_template(
        _with_tasks(
            "      - {id: a, name: A, duration: 1, depends_on: [nope]}\n"
            "      - {id: b, name: B, duration: 1, effort: {ghost: 1}}\n"
        )
    )
    message = _problems(path)
    assert "unknown task 'nope'" in message
    assert "unknown role 'ghost'" in message


def test_parameter_default_outside_its_choices(write_template):
    text = TEXTBOOK.replace("default: medium, choices", "default: extreme, choices")
    message = _problems(write_template(text))
    assert "parameters.maturity: default 'extreme' is not one of the choices" in message


def test_a_choice_compared_with_a_misspelt_value_is_refused(write_template):
    path = write_template(
        _with_tasks("""      - {id: a, name: A, duration: "5 if maturity in ('hihg', 'medium') else 3"}\n""")
    )
    assert (
        "phases[0].tasks[0].duration: 'maturity' is compared with 'hihg', which is not one of its choices "
        "(low, medium, high)" in _problems(path)
    )


def test_integer_parameter_default_must_be_whole(write_template):
    text = TEXTBOOK.replace("staff: {type: integer, default: 100", "staff: {type: integer, default: 2.5")
    assert "parameters.staff: default 2.5 is not a whole number" in _problems(write_template(text))


def test_lag_must_be_a_whole_number_not_text(write_template):
    path = write_template(
        _with_tasks(
            "      - {id: a, name: A, duration: 1}\n"
            '      - {id: b, name: B, duration: 1, depends_on: [{task: a, lag: "30"}]}\n'
        )
    )
    assert "phases[0].tasks[1].depends_on[0].lag: Input should be a valid integer" in _problems(path)


def test_a_parameter_following_an_unknown_one_is_refused(write_template):
    follower = "parameters:\n  trained: {type: integer, default: 1, follows: nobody}\n"
    text = HEADER.replace("parameters:\n", follower)
    path = write_template(_with_tasks("      - {id: a, name: A, duration: 1}\n").replace(HEADER, text))
    assert "parameters.trained.follows: 'nobody' is not a parameter of type integer" in _problems(path)

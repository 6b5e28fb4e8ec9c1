"""The form macros: an error summary linking to each field, hints and errors tied to fields."""
import re

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired

PAGE = """{% from "_forms.html" import field, error_summary %}
{{ error_summary(form) }}
{{ field(form.name, hint='As on the order of appointment.') }}
{{ field(form.agree, hint='Tick to confirm.') }}
{{ field(form.note) }}"""


class ExampleForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Full name", validators=[DataRequired("Enter the full name.")])
    agree = BooleanField("I confirm", validators=[DataRequired("Confirm to go on.")])
    note = StringField("Note")
    ref = HiddenField("Reference", validators=[DataRequired("The reference is missing.")])


def render(app, data):
    with app.test_request_context(method="POST", data=data):
        form = ExampleForm()
        form.validate()
        form.form_errors.append("The whole form is wrong.")
        return render_template_string(PAGE, form=form)


def test_the_error_summary_links_to_each_field_with_an_error(app):
    html = render(app, {"note": "x"})
    summary = html.split('class="error-summary"')[1].split("</div>")[0]
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    assert links == [("name", "Full name: Enter the full name."),
                     ("agree", "I confirm: Confirm to go on.")]
    # a hidden field and the form's own errors are listed as text, with no link to nowhere
    assert "<li>The reference is missing.</li>" in summary
    assert "<li>The whole form is wrong.</li>" in summary
    for target, _text in links:
        assert f'id="{target}"' in html


def test_hints_and_errors_are_tied_to_their_fields(app):
    html = render(app, {"note": "x"})
    for name in ("name", "agree"):
        control = re.search(rf'<input[^>]*id="{name}"[^>]*>', html).group(0)
        described = re.search(r'aria-describedby="([^"]+)"', control).group(1).split()
        assert described == [f"{name}-hint", f"{name}-error"]
        assert 'aria-invalid="true"' in control
        for target in described:
            assert f'id="{target}"' in html, target
    assert 'id="name-error"><span class="visually-hidden">Error: </span>Enter the full name.' in html
    note = re.search(r'<input[^>]*id="note"[^>]*>', html).group(0)
    assert "aria-describedby" not in note and "aria-invalid" not in note


def test_no_summary_and_no_error_markup_without_errors(app):
    with app.test_request_context():
        html = render_template_string(PAGE, form=ExampleForm(formdata=None))
    assert "error-summary" not in html and "aria-invalid" not in html
    assert 'aria-describedby="name-hint"' in html

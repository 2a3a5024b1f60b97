"""An invoice's PDF (WeasyPrint), rendered from its own template when it is issued and stored
with it: the document the brand received never changes afterwards."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session
from weasyprint import HTML

from agency.money.chain_models import Invoice, InvoiceDocument

_templates = Environment(loader=PackageLoader("agency.money", "templates"), autoescape=select_autoescape())


def render_invoice_pdf(invoice: Invoice, *, credited: Invoice | None = None) -> bytes:
    html = _templates.get_template("money_chain/invoice_pdf.html").render(invoice=invoice, credited=credited)
    return HTML(string=html).write_pdf()


def store_invoice_pdf(db_session: Session, invoice: Invoice) -> InvoiceDocument:
    """Render and keep the PDF of an issued invoice or credit note (once: a second call keeps the first)."""
    existing = db_session.scalar(select(InvoiceDocument).where(InvoiceDocument.invoice_id == invoice.id))
    if existing is not None:
        return existing
    credited = db_session.get(Invoice, invoice.credited_invoice_id) if invoice.credited_invoice_id else None
    document = InvoiceDocument(
        invoice_id=invoice.id,
        filename=f"{invoice.number or invoice.id}.pdf",
        content=render_invoice_pdf(invoice, credited=credited),
    )
    db_session.add(document)
    db_session.flush()
    return document


def get_invoice_pdf(db_session: Session, invoice_id: int) -> InvoiceDocument | None:
    return db_session.scalar(select(InvoiceDocument).where(InvoiceDocument.invoice_id == invoice_id))

"""Plain-text and HTML renderings of a ReconciliationReport.

The HTML is a fragment for the dashboard to embed. Bill fields come from outside (商品名称, order numbers, provider
status text), so every value goes through html.escape, and the fragment has no scripts, styles or links.
"""

from __future__ import annotations

from html import escape

from server.reconcile.matcher import Finding, FindingKind, ProviderReport, ReconciliationReport
from server.reconcile.records import format_yuan

LABELS: dict[FindingKind, str] = {
    "paid_but_unknown": "paid on the bill, not SUCCESS in our ledger",
    "known_but_unpaid": "SUCCESS in our ledger, not paid on the bill",
    "amount_mismatch": "amounts differ",
    "refunded_but_unknown": "refunded on the bill, not in our ledger",
    "known_but_unrefunded": "refund in our ledger, not on the bill",
    "refund_amount_mismatch": "refund amounts differ",
}


def _amount(cents: int | None) -> str:
    return "-" if cents is None else format_yuan(cents)


def _headline(report: ReconciliationReport) -> str:
    count = len(report.findings)
    state = "OK" if report.ok else f"{count} finding{'s' if count != 1 else ''}"
    return f"Reconciliation {report.bill_date or '(no date)'}: {state}"


def _matched(p: ProviderReport) -> str:
    return (
        f"matched {p.matched_payments} payments ({format_yuan(p.matched_payment_cents)} yuan), "
        f"{p.matched_refunds} refunds ({format_yuan(p.matched_refund_cents)} yuan)"
    )


def _order(f: Finding) -> str:
    return f.out_trade_no + (f" / refund {f.refund_no}" if f.refund_no else "")


def render_text(report: ReconciliationReport) -> str:
    """A few lines for logs and e-mail; one line per finding."""
    lines = [_headline(report)]
    for p in report.providers:
        lines.append(f"{p.provider}: {_matched(p)}; {len(p.findings)} findings")
        for f in p.findings:
            lines.append(
                f"  - {f.kind} {_order(f)}: ours {_amount(f.ours_cents)}, bill {_amount(f.theirs_cents)} ({f.reason})"
            )
    if report.unreconciled_providers:
        lines.append("not reconciled (no bill): " + ", ".join(report.unreconciled_providers))
    return "\n".join(lines) + "\n"


def _finding_row(f: Finding) -> str:
    cells = (LABELS[f.kind], _order(f), _amount(f.ours_cents), _amount(f.theirs_cents), f.reason)
    return "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"


def render_html(report: ReconciliationReport) -> str:
    """A self-contained HTML fragment (no scripts or styles); every value is escaped."""
    parts = [f'<section class="reconcile-report"><h3>{escape(_headline(report))}</h3>']
    for p in report.providers:
        parts.append(f"<h4>{escape(p.provider)}</h4><p>{escape(_matched(p))}</p>")
        if p.findings:
            parts.append(
                "<table><thead><tr><th>finding</th><th>order</th><th>ours</th><th>bill</th><th>reason</th></tr>"
                "</thead><tbody>"
            )
            parts.extend(_finding_row(f) for f in p.findings)
            parts.append("</tbody></table>")
    if report.unreconciled_providers:
        missing = ", ".join(report.unreconciled_providers)
        parts.append(f"<p>{escape('not reconciled (no bill): ' + missing)}</p>")
    parts.append("</section>")
    return "".join(parts)

"""Failure and deadline alerts, built on Airflow notifiers.

`KamAlertNotifier` always logs; it also sends e-mail through the SMTP provider's notifier when the
connection `kam_smtp` exists and Slack through the Slack provider's notifier when `kam_slack` exists.
Connections are looked up when the alert fires (never at DAG parse time). Recipients: the connection's
extra `to` / `channel`, else the env vars KAM_ALERT_EMAIL_TO / KAM_ALERT_SLACK_CHANNEL.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger("kam_warehouse.alerts")

SMTP_CONN_ID = "kam_smtp"
SLACK_CONN_ID = "kam_slack"


def describe_failure(context: Any) -> str:
    """One line naming the DAG, run, task and the exception: what the person sees in every channel."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = getattr(dag_run, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
    run_id = getattr(dag_run, "run_id", "?")
    task_id = getattr(ti, "task_id", None)
    exc = context.get("exception")
    where = f"{dag_id}.{task_id}" if task_id else dag_id
    reason = f": {exc}" if exc else ""
    return f"KAM Warehouse: {where} failed in run {run_id}{reason}"


def _connection_extra(conn_id: str) -> dict[str, Any] | None:
    """The connection's extra dict, or None when the connection is not defined."""
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception:  # not defined (AirflowNotFoundException / runtime error): this channel is off
        return None
    return conn.extra_dejson or {}


class KamAlertNotifier(BaseNotifier):
    """Log the alert; fan it out to e-mail / Slack when their connections exist."""

    def __init__(self, kind: str = "failure", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind

    template_fields = ()

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render. Skipping it matters: Airflow 3.3 hands DAG-level failure callbacks a
        SerializedDAG, which has no template environment, and the alert would be lost."""
        return None

    def message(self, context: Any) -> str:
        if self.kind == "deadline":
            dag_run = context.get("dag_run")
            return (f"KAM Warehouse: deadline missed: {getattr(dag_run, 'dag_id', 'kam_nightly')} run "
                    f"{getattr(dag_run, 'run_id', '?')} has not finished publishing in time")
        return describe_failure(context)

    def notify(self, context: Any) -> None:
        self.send(self.message(context), context)

    def send(self, text: str, context: Any) -> None:
        """Log `text` as an error and fan it out to every configured channel."""
        log.error(text)
        self._send_email(text, context)
        self._send_slack(text, context)

    async def async_notify(self, context: Any) -> None:
        """Deadline alerts run in the triggerer, which calls the async variant."""
        await asyncio.to_thread(self.notify, context)

    def _send_email(self, text: str, context: Any) -> None:
        extra = _connection_extra(SMTP_CONN_ID)
        if extra is None:
            return
        to = extra.get("to") or os.environ.get("KAM_ALERT_EMAIL_TO")
        if not to:
            log.warning("connection %s exists but names no recipient (extra 'to' or KAM_ALERT_EMAIL_TO)",
                        SMTP_CONN_ID)
            return
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        SmtpNotifier(to=to, smtp_conn_id=SMTP_CONN_ID, subject=text[:150], html_content=f"<p>{text}</p>")(context)

    def _send_slack(self, text: str, context: Any) -> None:
        extra = _connection_extra(SLACK_CONN_ID)
        if extra is None:
            return
        channel = extra.get("channel") or os.environ.get("KAM_ALERT_SLACK_CHANNEL", "#kam-alerts")
        from airflow.providers.slack.notifications.slack import SlackNotifier

        SlackNotifier(slack_conn_id=SLACK_CONN_ID, channel=channel, text=text)(context)


def alert(text: str, context: Any) -> None:
    """Raise an alert from inside a task (e.g. a source behind the other) without failing the task."""
    KamAlertNotifier("alert").send(f"KAM Warehouse: {text}", context)


def failure_callbacks() -> list[BaseNotifier]:
    """What every DAG and task gets as `on_failure_callback`."""
    return [KamAlertNotifier("failure")]

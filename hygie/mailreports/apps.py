from django.apps import AppConfig


class MailReportsConfig(AppConfig):
    name = "hygie.mailreports"
    label = "mailreports"
    verbose_name = "Signalements de messages suspects"

    def ready(self):
        from hygie.core.tasks import register_housekeeping
        from hygie.mailreports import services, tasks

        register_housekeeping("mail_reports_purged", services.purge_expired)
        # Housekeeping runs every hour: it also revives the poll chain if it ever broke.
        register_housekeeping("mailbox_polls_planted", tasks.ensure_poll_scheduled)

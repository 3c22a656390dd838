"""A real SMTP server for the alert tests: aiosmtpd on loopback, writing each message it
accepts to OUT_DIR as NNNN.eml (the raw bytes as received) and NNNN.txt (decoded: envelope
recipients, subject, Message-ID, then the text; a multipart message's attachments are
listed as "Attachment: NAME" lines after the text and saved decoded in NNNN.att/).

Usage: smtp_sink.py OUT_DIR [--port N] [--fail-first N] [--reject] [--reject-to ADDR]...
                         [--tls CERT KEY]
  --fail-first N  answer the first N messages with 451 (a temporary failure)
  --reject        answer every message with 550 (a permanent failure)
  --reject-to A   answer every message to A with 550 (may be given more than once)
  --tls CERT KEY  offer STARTTLS with this certificate, and require it
Prints "PORT <n>" on stdout when it listens; runs until stdin is closed.
"""

import email
import email.policy
import os
import socket
import ssl
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out, fail_first, reject, reject_to):
        self.out = out
        self.fail_first = fail_first
        self.reject = reject
        self.reject_to = reject_to
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.reject or any(r.lower() in self.reject_to for r in envelope.rcpt_tos):
            return "550 5.7.1 rejected by the test server"
        if self.fail_first > 0:
            self.fail_first -= 1
            return "451 4.3.0 try again later"
        self.count += 1
        path = os.path.join(self.out, "%04d.eml" % self.count)
        with open(path + ".tmp", "wb") as f:
            rcpt = ",".join(envelope.rcpt_tos).encode()
            f.write(b"X-Envelope-To: " + rcpt + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        # Also decoded (RFC 2047 headers, quoted-printable body), for the tests to read.
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        with open(path[:-4] + ".txt", "w", encoding="utf-8") as f:
            f.write("X-Envelope-To: %s\n" % ",".join(envelope.rcpt_tos))
            f.write("Subject: %s\n" % msg["Subject"])
            f.write("Message-ID: %s\n\n" % msg["Message-ID"])
            if msg.is_multipart():
                f.write(msg.get_body(preferencelist=("plain",)).get_content())
                for att in msg.iter_attachments():
                    name = os.path.basename(att.get_filename() or "unnamed")
                    folder = path[:-4] + ".att"
                    os.makedirs(folder, exist_ok=True)
                    with open(os.path.join(folder, name), "wb") as a:
                        a.write(att.get_payload(decode=True))
                    f.write("Attachment: %s\n" % name)
            else:
                f.write(msg.get_content())
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    args = sys.argv[1:]
    out = args.pop(0)
    fail_first, reject, tls, port, reject_to = 0, False, None, 0, set()
    while args:
        a = args.pop(0)
        if a == "--fail-first":
            fail_first = int(args.pop(0))
        elif a == "--reject":
            reject = True
        elif a == "--reject-to":
            reject_to.add(args.pop(0).lower())
        elif a == "--port":
            port = int(args.pop(0))
        elif a == "--tls":
            tls = (args.pop(0), args.pop(0))
    if port == 0:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
    kwargs = {}
    if tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(tls[0], tls[1])
        kwargs = {"tls_context": ctx, "require_starttls": True}
    c = Controller(Sink(out, fail_first, reject, reject_to), hostname="127.0.0.1", port=port, **kwargs)
    c.start()
    print("PORT %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        c.stop()


if __name__ == "__main__":
    main()

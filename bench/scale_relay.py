"""A TCP relay in front of one fake cluster, so the scale benchmark can make that cluster unreachable
while tmcd keeps its registration: `blackhole()` closes every relayed connection, then accepts new ones
and never answers (a hung apiserver), counting them."""
import socket
import threading


class Relay:
    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(128)
        self.port = self.ls.getsockname()[1]
        self.dead = False
        self.accepted_dead = 0
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.ls.accept()
            with self.lock:
                if self.dead:
                    self.accepted_dead += 1
                    self.conns.append(c)  # held open, never read or answered
                    continue
                u = socket.create_connection(self.target)
                self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def blackhole(self):
        with self.lock:
            self.dead = True
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns = []

    def revive(self):
        with self.lock:
            self.dead = False

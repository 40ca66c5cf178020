package DDTRedis;

# t/inc/DDTRedis.pm: what the t/redis*.t suites share: real redis-server
# (and sentinel) processes on free loopback ports, a TCP server that accepts
# and never answers, a second nginx instance, and a tiny blocking RESP
# client with timeouts.  Every process is our child, stopped by PID at the
# end (END block) or when a test asks; every wait is bounded.

use strict;
use warnings;

use POSIX ();
use IO::Socket::INET ();
use IO::Select ();
use File::Temp ();
use Time::HiRes qw(time sleep);

our @Children;
our $Owner = $$;                # forked helpers must not run the END block
our $Dir = File::Temp::tempdir('ddt-redis-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $Dir;

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die $!;
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub spawn {
    my @cmd = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$Dir/children.log";
        open STDERR, '>&', \*STDOUT;
        POSIX::setsid();
        exec @cmd or POSIX::_exit(127);
    }
    push @Children, $pid;
    return $pid;
}

# Stop a child: TERM (or the given signal), then KILL after a bound.
sub stop {
    my ($pid, $sig) = @_;
    return unless $pid;
    kill $sig // 'TERM', $pid;
    my $t0 = time;
    while (time - $t0 < 5) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        if ($r == $pid || $r == -1) {
            @Children = grep { $_ != $pid } @Children;
            return;
        }
        sleep 0.02;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
    @Children = grep { $_ != $pid } @Children;
}

END {
    if ($$ == $Owner) {
        my $rc = $?;
        my @c = @Children;
        stop($_, 'KILL') for @c;
        $? = $rc;
    }
}

# ---- RESP client ------------------------------------------------------------

sub _readline {
    my ($s, $deadline) = @_;
    my $line = '';
    my $sel = IO::Select->new($s);
    while ($line !~ /\r\n\z/) {
        my $left = $deadline - time;
        return undef if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, my $c, 1);
        return undef unless $n;
        $line .= $c;
    }
    $line =~ s/\r\n\z//;
    return $line;
}

sub _readn {
    my ($s, $n, $deadline) = @_;
    my $buf = '';
    my $sel = IO::Select->new($s);
    while (length $buf < $n + 2) {
        my $left = $deadline - time;
        return undef if $left <= 0 || !$sel->can_read($left);
        my $r = sysread($s, $buf, $n + 2 - length $buf, length $buf);
        return undef unless $r;
    }
    return substr($buf, 0, $n);
}

sub _reply {
    my ($s, $deadline) = @_;
    my $line = _readline($s, $deadline);
    die "redis: no reply\n" unless defined $line;
    my ($t, $rest) = (substr($line, 0, 1), substr($line, 1));
    return $rest if $t eq '+';
    return { err => $rest } if $t eq '-';
    return 0 + $rest if $t eq ':';
    if ($t eq '$') {
        return undef if $rest < 0;
        my $v = _readn($s, $rest, $deadline);
        die "redis: short reply\n" unless defined $v;
        return $v;
    }
    if ($t eq '*') {
        return undef if $rest < 0;
        return [ map { _reply($s, $deadline) } 1 .. $rest ];
    }
    die "redis: bad reply '$line'\n";
}

# cmd(port, 'HGET', key, field) -> reply; dies when Redis does not answer
# within 3 s.  Errors come back as { err => message }.
sub cmd {
    my ($port, @args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 2)
        or die "redis :$port: $!\n";
    binmode $s;
    my $req = '*' . scalar(@args) . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print {$s} $req;
    $s->flush;
    my $r = _reply($s, time + 3);
    close $s;
    return $r;
}

sub ping {
    my $port = shift;
    my $r = eval { cmd($port, 'PING') };
    return defined $r && !ref $r && $r eq 'PONG';
}

sub wait_until {
    my ($what, $cb, $secs) = @_;
    my $t0 = time;
    while (time - $t0 < ($secs // 10)) {
        return 1 if $cb->();
        sleep 0.05;
    }
    die "timed out waiting for $what\n";
}

# XRANGE as a list of { id, field => value } hashes.
sub xrange {
    my ($port, $key) = @_;
    my $r = cmd($port, 'XRANGE', $key, '-', '+');
    return [] unless ref $r eq 'ARRAY';
    return [ map { { id => $_->[0], @{ $_->[1] } } } @$r ];
}

# ---- servers ----------------------------------------------------------------

# Start redis-server on port (free one if undef); extra: more arguments.
sub start_redis {
    my (%o) = @_;
    my $port = $o{port} // free_port();
    my $dir = "$Dir/redis-$port";
    mkdir $dir;
    my @cmd = ('redis-server', '--port', $port, '--bind', '127.0.0.1',
               '--dir', $dir, '--save', '', '--appendonly', 'no',
               '--daemonize', 'no', '--logfile', "$dir/redis.log",
               @{ $o{extra} // [] });
    my $pid = spawn(@cmd);
    wait_until("redis-server on :$port", sub { ping($port) }, 10);
    return { pid => $pid, port => $port, dir => $dir };
}

sub stop_redis {
    my ($r, $sig) = @_;
    stop($r->{pid}, $sig);
    # the port is closed once the process is gone
}

# A redis-sentinel watching master `name` at 127.0.0.1:master_port.
sub start_sentinel {
    my (%o) = @_;
    my $port = $o{port} // free_port();
    my $conf = "$Dir/sentinel-$port.conf";
    open my $f, '>', $conf or die "$conf: $!";
    print {$f} <<"EOF";
port $port
bind 127.0.0.1
daemonize no
logfile $Dir/sentinel-$port.log
dir $Dir
sentinel monitor $o{name} 127.0.0.1 $o{master_port} 2
sentinel down-after-milliseconds $o{name} 500
sentinel failover-timeout $o{name} 3000
sentinel parallel-syncs $o{name} 1
EOF
    close $f;
    my $pid = spawn('redis-server', $conf, '--sentinel');
    wait_until("sentinel on :$port", sub { ping($port) }, 10);
    return { pid => $pid, port => $port };
}

# A TCP server on port that accepts connections and never answers.
sub start_blackhole {
    my $port = shift;
    my $ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                   LocalPort => $port, Listen => 128,
                                   ReuseAddr => 1)
        or die "blackhole :$port: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my @held;
        local $SIG{TERM} = sub { POSIX::_exit(0) };
        my $t0 = time;
        while (time - $t0 < 120) {
            my $c = $ls->accept or next;
            push @held, $c;          # read nothing, answer nothing
        }
        POSIX::_exit(0);
    }
    close $ls;
    push @Children, $pid;
    return { pid => $pid, port => $port };
}

# A second nginx on its own prefix and port, same module, this http block.
sub start_nginx {
    my (%o) = @_;
    my $port = $o{port} // free_port();
    my $prefix = "$Dir/nginx-$port";
    mkdir $prefix;
    mkdir "$prefix/logs";
    mkdir "$prefix/conf";
    my $mods = join '',
        map { "load_module $_;\n" }
        split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
    my $http = $o{http};
    $http =~ s/\$PORT\b/$port/g;
    open my $f, '>', "$prefix/conf/nginx.conf" or die $!;
    print {$f} <<"EOF";
${mods}daemon off;
master_process on;
worker_processes 1;
error_log $prefix/logs/error.log info;
pid $prefix/logs/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $prefix/tmp;
$http
}
EOF
    close $f;
    mkdir "$prefix/tmp";
    my $bin = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
    my $pid = spawn($bin, '-p', "$prefix/", '-c', "$prefix/conf/nginx.conf",
                    '-e', "$prefix/logs/error.log");
    wait_until("nginx on :$port", sub {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port);
        close $s if $s;
        return !!$s;
    }, 10);
    return { pid => $pid, port => $port, prefix => $prefix };
}

sub stop_nginx {
    my $n = shift;
    stop($n->{pid}, 'QUIT');
}

# One request to 127.0.0.1:port (DDTTest::http talks to the suite's nginx).
sub http_to {
    my ($port, $method, $path, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5)
        or return { code => 0, body => '', head => '' };
    binmode $s;
    print {$s} DDTTest::raw_request($method, $path, $body);
    $s->flush;
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $deadline = time + 10;
    while (time < $deadline && $sel->can_read($deadline - time)) {
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    close $s;
    return DDTTest::parse($buf);
}

# The shard of a session id, as the module computes it (CRC16 XMODEM).
sub crc16 {
    my $crc = 0;
    for my $c (unpack 'C*', shift) {
        $crc ^= $c << 8;
        for (1 .. 8) {
            $crc = ($crc & 0x8000) ? (($crc << 1) ^ 0x1021) & 0xffff
                                   : ($crc << 1) & 0xffff;
        }
    }
    return $crc;
}

sub key {
    my ($what, $id, $shards) = @_;
    my $shard = crc16($id) % ($shards // 1);
    return defined $id && $what =~ /^[st]$/ ? "ddt:{$shard}:$what:$id"
                                            : "ddt:{$shard}:$what";
}

1;

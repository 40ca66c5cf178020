package DDTPersister;

# t/inc/DDTPersister.pm: what the t/persister*.t suites share: the MongoDB
# side (the wire-protocol test server persister/testserver/ddt-mongo-wire.pl
# on free loopback ports, or a real mongod when DDT_TEST_MONGO_URI is set,
# each suite in a database of its own), ddt-persister processes with their
# own log files, stream entries in the SPEC 9.7 format, reading MongoDB
# back with build/persister/ddt-mongo-dump, and a Redis subscriber.  Every
# process is a child stopped by PID (DDTRedis's END block); every wait is
# bounded.

use strict;
use warnings;

use FindBin ();
use POSIX ();
use IO::Socket::INET ();
use IO::Select ();
use JSON::PP ();
use Time::HiRes qw(time sleep);
use DDTRedis ();

our $Root = "$FindBin::Bin/..";
our $Bin = $ENV{DDT_PERSISTER_BIN} || "$Root/build/persister/ddt-persister";
our $Dump = "$Root/build/persister/ddt-mongo-dump";
our $Wire = "$Root/persister/testserver/ddt-mongo-wire.pl";
our $JSON = JSON::PP->new->canonical;
our $Real = $ENV{DDT_TEST_MONGO_URI} ? 1 : 0;

sub available {
    return -x $Bin && -x $Dump;
}

sub spawn_logged {
    my ($log, @cmd) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        POSIX::setsid();
        exec @cmd or POSIX::_exit(127);
    }
    push @DDTRedis::Children, $pid;
    return $pid;
}

# ---- MongoDB ------------------------------------------------------------

# { uri, db, real, port, control, pid }
sub start_mongo {
    my (%o) = @_;
    my $db = $o{db} // "ddt_test_$$";
    if ($Real) {
        my $m = { uri => $ENV{DDT_TEST_MONGO_URI}, db => $db, real => 1 };
        system($Dump, $m->{uri}, $db, 'drop') == 0
            or die "cannot drop $db on $m->{uri}\n";
        return $m;
    }
    my $port = DDTRedis::free_port();
    my $cport = DDTRedis::free_port();
    my $log = "$DDTRedis::Dir/mongo-wire-$port.log";
    my $pid = spawn_logged($log, 'perl', $Wire, '--port', $port,
                           '--control', $cport);
    my $m = { uri => "mongodb://127.0.0.1:$port/?serverSelectionTimeoutMS=2000",
              db => $db, real => 0, port => $port, control => $cport,
              pid => $pid, log => $log };
    DDTRedis::wait_until('ddt-mongo-wire', sub {
        my $r = eval { ctl($m, 'ping') };
        return defined $r && $r eq 'pong';
    }, 10);
    return $m;
}

# a line on the test server's control port; undef against a real mongod
sub ctl {
    my ($m, $line) = @_;
    return undef if $m->{real};
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $m->{control}, Timeout => 2)
        or die "control: $!\n";
    print {$s} "$line\n";
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time + 3;
    while ($buf !~ /\n/) {
        my $left = $deadline - time;
        die "control: no reply to $line\n"
            if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, $buf, 4096, length $buf);
        die "control: closed\n" unless $n;
    }
    close $s;
    chomp $buf;
    return $buf;
}

sub dump_cmd {
    my ($m, @args) = @_;
    my $pid = open(my $fh, '-|');
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>', '/dev/null';
        exec $Dump, $m->{uri}, $m->{db}, @args or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh>;
    close $fh;
    return ($? == 0, $out // '');
}

# documents of a collection (sorted by _id), as Perl data; [] on failure
sub find {
    my ($m, $coll, $filter) = @_;
    my ($ok, $out) = dump_cmd($m, 'find', $coll,
                              defined $filter ? ($JSON->encode($filter)) : ());
    return [] unless $ok;
    return [ map { $JSON->decode($_) } grep { length } split /\n/, $out ];
}

sub indexes {
    my ($m, $coll) = @_;
    my ($ok, $out) = dump_cmd($m, 'indexes', $coll);
    return [ map { $JSON->decode($_) } grep { length } split /\n/, $out ];
}

sub count {
    my ($m, $coll) = @_;
    my ($ok, $out) = dump_cmd($m, 'count', $coll);
    return $ok ? 0 + $out : -1;
}

# libbson's relaxed extended JSON of a date
sub iso {
    my $ms = shift;
    my @t = gmtime(int($ms / 1000));
    my $s = sprintf('%04d-%02d-%02dT%02d:%02d:%02d', $t[5] + 1900, $t[4] + 1,
                    @t[3, 2, 1, 0]);
    $s .= sprintf('.%03d', $ms % 1000) if $ms % 1000;
    return { '$date' => "${s}Z" };
}

# ---- the persister --------------------------------------------------------

# { pid, log, metrics, consumer }
sub start_persister {
    my (%o) = @_;
    my $mport = DDTRedis::free_port();
    my $consumer = $o{consumer} // 'p1';
    my $log = $o{log} // "$DDTRedis::Dir/persister-$consumer-$mport.log";
    my @args = ('--redis', "127.0.0.1:$o{redis}", '--mongo-uri',
                $o{mongo}{uri}, '--database', $o{mongo}{db},
                '--consumer', $consumer, '--metrics', "127.0.0.1:$mport",
                '--log-level', $o{log_level} // 'info',
                '--heartbeat-ttl-ms', 1000, '--redis-timeout-ms', 1000,
                %{ $o{args} // {} });
    my $pid = spawn_logged($log, $Bin, @args);
    my $p = { pid => $pid, log => $log, metrics => $mport,
              consumer => $consumer };
    DDTRedis::wait_until('ddt-persister metrics', sub {
        return defined metrics($p);
    }, 10);
    return $p;
}

sub stop_persister {
    my ($p, $sig) = @_;
    DDTRedis::stop($p->{pid}, $sig);
}

# exit status of a child that has exited (waits up to secs)
sub wait_exit {
    my ($p, $secs) = @_;
    my $t0 = time;
    while (time - $t0 < ($secs // 10)) {
        my $r = waitpid($p->{pid}, POSIX::WNOHANG());
        if ($r == $p->{pid}) {
            @DDTRedis::Children = grep { $_ != $p->{pid} } @DDTRedis::Children;
            return $?;
        }
        sleep 0.05;
    }
    return undef;
}

# the metrics as { name => value } (labels kept in the name); undef if down
sub metrics {
    my ($p) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $p->{metrics}, Timeout => 1)
        or return undef;
    print {$s} "GET /metrics HTTP/1.0\r\n\r\n";
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time + 2;
    while (1) {
        my $left = $deadline - time;
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    return undef unless $buf =~ /^HTTP\/1\.0 200/;
    my %m;
    for (split /\n/, $buf) {
        $m{$1} = $2 if /^(ddt_persister_\S+) (\S+)$/;
    }
    return \%m;
}

sub log_text {
    my ($p) = @_;
    open my $f, '<', $p->{log} or return '';
    local $/;
    return <$f>;
}

# ---- stream entries (SPEC 9.7) --------------------------------------------

# CRC16 XMODEM mod shards, as the module and the persister
sub shard {
    my ($sid, $shards) = @_;
    my $crc = 0;
    for my $c (unpack 'C*', $sid) {
        $crc ^= $c << 8;
        for (1 .. 8) {
            $crc = ($crc & 0x8000) ? (($crc << 1) ^ 0x1021) : ($crc << 1);
            $crc &= 0xffff;
        }
    }
    return $crc % ($shards // 1);
}

sub state_json {
    my ($sid, $ver, %o) = @_;
    return $JSON->encode({
        format => 'ddt-session/1', sessionId => $sid,
        project => $o{project} // 'clinic', projectVersion => $o{pv} // 'v1',
        status => $o{status} // 'waiting', version => 0 + $ver,
        memory => $o{memory} // { n => 0 + $ver },
    });
}

sub turn_json {
    my ($ver, %o) = @_;
    return $JSON->encode({
        input => exists $o{input} ? $o{input} : { text => "utterance $ver" },
        response => $o{response} // { version => 0 + $ver,
                                      messages => [{ text => "prompt $ver" }] },
        at => 0 + ($o{at} // 1764100000000 + $ver * 1000),
    });
}

# XADD one snapshot; returns the entry id
sub xadd {
    my ($port, $sid, $ver, %o) = @_;
    my $key = 'ddt:{' . shard($sid, $o{shards}) . '}:snapshots';
    return DDTRedis::cmd($port, 'XADD', $key, '*', 'sid', $sid, 'ver', $ver,
                         'critical', $o{critical} // 0,
                         'state', $o{state} // state_json($sid, $ver, %o),
                         'turn', $o{turn} // turn_json($ver, %o),
                         $o{deleted} ? ('deleted', '1') : ());
}

# ---- subscriber ------------------------------------------------------------

sub subscribe {
    my ($port, @channels) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 2) or die "subscribe: $!\n";
    my $req = '*' . (1 + @channels) . "\r\n\$9\r\nSUBSCRIBE\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @channels;
    print {$s} $req;
    DDTRedis::_reply($s, time + 3) for @channels;
    return $s;
}

# the next message on a subscription: [channel, payload], undef on timeout
sub next_message {
    my ($s, $secs) = @_;
    my $r = eval { DDTRedis::_reply($s, time + ($secs // 3)) };
    return undef unless ref $r eq 'ARRAY' && $r->[0] eq 'message';
    return [$r->[1], $r->[2]];
}

1;

# t/persister_nginx.t: a conversation through nginx (the module in Redis
# mode, two shards) ends up in MongoDB exactly: every stream entry the
# module wrote is one `turns` document with the entry's input, response,
# time and critical flag, every session one `sessions` document at the
# last version with the very state Redis holds; a turnId replay adds
# nothing; DELETE marks the session deleted.  Real nginx, real
# redis-server, ddt-persister, and the MongoDB wire test server (or a real
# mongod with DDT_TEST_MONGO_URI).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::More;
use JSON::PP ();
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes qw(time sleep);
use DDTRedis;
use DDTPersister;

my $So = "$FindBin::Bin/../build/nginx/objs/ngx_http_ddt_module.so";
$ENV{TEST_NGINX_LOAD_MODULES} ||= $So if -f $So;
plan skip_all => 'build/persister or the module is not built'
    unless DDTPersister::available() && $ENV{TEST_NGINX_LOAD_MODULES};

my $J = JSON::PP->new->canonical;
my $Projects = "$FindBin::Bin/projects";
my $Redis = DDTRedis::start_redis();
my $RP = $Redis->{port};
sub cmd { DDTRedis::cmd($RP, @_) }

# an audit group keeps every entry in the streams for the comparison
for my $s (0, 1) {
    cmd('XGROUP', 'CREATE', "ddt:{$s}:snapshots", 'audit', '$', 'MKSTREAM');
}

my $M = DDTPersister::start_mongo(db => "ddt_test_nginx_$$");
my $P = DDTPersister::start_persister(redis => $RP, mongo => $M,
                                      consumer => 'n1',
                                      args => { '--shards' => 2 });
my $N = DDTRedis::start_nginx(http => <<"_EOC_");
    ddt_project $Projects/booking.json;
    ddt_project $Projects/echo.json;
    ddt_redis 127.0.0.1:$RP;
    ddt_redis_shards 2;
    server {
        listen 127.0.0.1:\$PORT;
        location /v1/ { ddt_api; }
    }
_EOC_

sub http {
    my ($method, $path, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $N->{port}, Timeout => 5)
        or die "connect: $!\n";
    my $b = defined $body ? $J->encode($body) : '';
    print {$s} "$method $path HTTP/1.0\r\nHost: x\r\n"
        . "Content-Type: application/json\r\nContent-Length: "
        . length($b) . "\r\n\r\n$b";
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time + 10;
    while (time < $deadline && $sel->can_read($deadline - time)) {
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    my ($head, $rb) = split /\r\n\r\n/, $buf, 2;
    my ($code) = $head =~ /^HTTP\/\S+ (\d+)/;
    return ($code // 0, length($rb // '') ? eval { $J->decode($rb) } : undef);
}

my %sent;           # sid => [request bodies of committed turns, by version]

sub turn {
    my ($sid, $body, $want) = @_;
    my ($code, $r) = http('POST', "/v1/sessions/$sid/turns", $body);
    is($code, $want // 200, "turn on $sid: $code");
    push @{ $sent{$sid} }, $body if $code == 200 && !$body->{replay};
    return $r;
}

my @sids = ('nginx-book-0001', 'nginx-book-0002', 'nginx-echo-0003');
for my $sid (@sids) {
    my $project = $sid =~ /echo/ ? 'echo' : 'booking';
    my $body = { project => $project, sessionId => $sid };
    my ($code) = http('POST', '/v1/sessions', $body);
    is($code, 201, "session $sid created");
    $sent{$sid} = [$body];
}
turn('nginx-book-0001', { text => 'Mario Rossi' });
turn('nginx-book-0001', { dtmf => '1#' });
turn('nginx-book-0002', { text => 'Giulia Bianchi', turnId => 'tid-1' });
turn('nginx-echo-0003', { text => 'one' });
turn('nginx-echo-0003', { text => 'two' });
my ($rc) = http('POST', '/v1/sessions/nginx-book-0002/turns',
                { text => 'Giulia Bianchi', turnId => 'tid-1' });
is($rc, 200, 'a turnId replay answers 200 and commits nothing');
turn('nginx-book-0001', { event => 'noInput' });
my ($dc) = http('DELETE', '/v1/sessions/nginx-echo-0003');
ok($dc == 200 || $dc == 204, "DELETE answers $dc");

# every entry of both streams, as the module wrote them
my @entries = map { @{ DDTRedis::xrange($RP, "ddt:{$_}:snapshots") } } 0, 1;
my @turns = grep { !$_->{deleted} } @entries;
is(scalar @turns, 3 + 6, 'nine commits (3 creations, 6 turns), nine stream entries');

DDTRedis::wait_until('every turn in MongoDB', sub {
    DDTPersister::count($M, 'turns') >= @turns
        && (grep { $_->{deleted} } @{ DDTPersister::find($M, 'sessions') });
}, 15);

my %docs = map { $_->{_id} => $_ } @{ DDTPersister::find($M, 'turns') };
is(scalar keys %docs, scalar @turns, 'turns: exactly one document per entry');
for my $e (@turns) {
    my $t = $J->decode($e->{turn});
    my $d = $docs{"$e->{sid}:$e->{ver}"};
    is_deeply($d, {
        _id => "$e->{sid}:$e->{ver}", sid => $e->{sid}, ver => 0 + $e->{ver},
        at => DDTPersister::iso($t->{at}), input => $t->{input},
        response => $t->{response},
        critical => $e->{critical} ? JSON::PP::true : JSON::PP::false,
    }, "turns $e->{sid}:$e->{ver}: input, response, at and critical of the "
       . "entry");
    is_deeply($t->{input}, $sent{ $e->{sid} }[ $e->{ver} - 1 ],
              "turns $e->{sid}:$e->{ver}: the request body that made it");
}

my %ses = map { $_->{_id} => $_ } @{ DDTPersister::find($M, 'sessions') };
for my $sid ('nginx-book-0001', 'nginx-book-0002') {
    my $shard = DDTPersister::shard($sid, 2);
    my %h = @{ cmd('HGETALL', "ddt:{$shard}:s:$sid") };
    my ($code, $g) = http('GET', "/v1/sessions/$sid");
    is($ses{$sid}{ver}, $h{ver}, "sessions $sid: ver $h{ver}, as in Redis");
    is($ses{$sid}{state}, $h{state}, "sessions $sid: the state Redis holds");
    is($ses{$sid}{status}, $h{status}, "sessions $sid: status $h{status}");
    is($ses{$sid}{project}, 'booking', "sessions $sid: project");
    is(cmd('GET', "ddt:{$shard}:d:$sid"), $h{ver},
       "ddt:{$shard}:d:$sid: the last ver is durable");
}
ok($ses{'nginx-echo-0003'}{deleted} && $ses{'nginx-echo-0003'}{endedAt},
   'the deleted session is marked deleted, with endedAt');
my $dead = @{ DDTRedis::xrange($RP, 'ddt:{0}:deadletter') }
    + @{ DDTRedis::xrange($RP, 'ddt:{1}:deadletter') };
is($dead, 0,
   'no dead letters: the module\'s entries are well-formed');

DDTRedis::stop_nginx($N);
done_testing();

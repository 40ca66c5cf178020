# t/concurrency.t: two turns on one session at once (SPEC 6, 9.4): one wins,
# the other is 409 `conflict`, the state is never half-written.  A turn that
# waits on a BackendCall (a slow location) holds the session, which makes
# the overlap certain; a burst of racing pairs over two workers checks that
# no version is ever committed twice.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;

no_shuffle();
master_on();
workers(2);

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/echo.json;
    ddt_project $TEST_NGINX_DDT_PROJECTS/backend.json;
_EOC_
    config => $DDTTest::ApiConfig . <<'_EOC_',
    # the BackendCall target: ~300 bytes at 100 bytes/s, about 2 seconds
    location = /slow {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/slow_origin;
    }
    location = /slow_origin {
        limit_rate 100;
        default_type application/json;
        return 200 '{"ok": true, "pad": "................................................................................................................................................................................................................................................................"}';
    }
_EOC_
    more_headers => "Content-Type: application/json",
    timeout => 15,
);

sub turn_raw {
    my ($id, $body) = @_;
    DDTTest::raw_request('POST', "/v1/sessions/$id/turns", $body);
}

run_tests();

__DATA__

=== TEST 1: a turn waiting on its BackendCall holds the session: the other turn is 409
--- request eval
[
"POST /v1/sessions\n{\"project\": \"backend\", \"sessionId\": \"conc-lock-0001\"}",
"GET /v1/sessions/conc-lock-0001",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my @r = DDTTest::at_once(
            main::turn_raw('conc-lock-0001', '{"text": "first"}'),
            main::turn_raw('conc-lock-0001', '{"text": "second"}'));
        my @codes = sort map { $_->{code} } @r;
        Test::More::is("@codes", "200 409", "$name - one 200 and one 409");
        my ($ok) = grep { $_->{code} == 200 } @r;
        my ($no) = grep { $_->{code} == 409 } @r;
        my $okj = DDTTest::decode($ok ? $ok->{body} : '') || {};
        my $noj = DDTTest::decode($no ? $no->{body} : '') || {};
        Test::More::is($okj->{version}, 2, "$name - the winner committed version 2");
        Test::More::is($okj->{messages}[0]{text}, 'Backend answered 200.',
                       "$name - the winner ran its BackendCall");
        Test::More::is($noj->{error}{code}, 'conflict', "$name - the loser is conflict");
    },
}
--- json eval
[ undef, { version => 2, 'memory.$backend.status' => 200 } ]
--- no_error_log
[error]



=== TEST 2: the same turnId twice while the first is in flight: 409, then the replay is 200
--- request eval
[
"POST /v1/sessions\n{\"project\": \"backend\", \"sessionId\": \"conc-tid-00001\"}",
"POST /v1/sessions/conc-tid-00001/turns\n{\"text\": \"first\", \"turnId\": \"dup-1\"}",
"GET /v1/sessions/conc-tid-00001",
]
--- error_code eval
[201, 200, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my @r = DDTTest::at_once(
            main::turn_raw('conc-tid-00001', '{"text": "first", "turnId": "dup-1"}'),
            main::turn_raw('conc-tid-00001', '{"text": "first", "turnId": "dup-1"}'));
        my @codes = sort map { $_->{code} } @r;
        Test::More::is("@codes", "200 409", "$name - one 200 and one 409");
    },
}
--- json eval
[ undef, { version => 2, 'messages.0.text' => 'Backend answered 200.' },
  { version => 2 } ]
--- no_error_log
[error]



=== TEST 3: racing pairs of turns over two workers never commit a version twice
--- request eval
[
"POST /v1/sessions\n{\"project\": \"echo\", \"sessionId\": \"conc-race-0001\"}",
"GET /v1/sessions/conc-race-0001",
]
--- error_code eval
[201, 200]
--- after eval
{
    0 => sub {
        my $name = $_[0]->name;
        my (%versions, @bad);
        my ($wins, $conflicts) = (0, 0);
        for my $round (1 .. 50) {
            my @r = DDTTest::at_once(
                main::turn_raw('conc-race-0001', "{\"text\": \"a$round\"}"),
                main::turn_raw('conc-race-0001', "{\"text\": \"b$round\"}"));
            for my $r (@r) {
                my $j = DDTTest::decode($r->{body}) || {};
                if ($r->{code} == 200) {
                    $wins++;
                    push @bad, "version $j->{version} twice"
                        if $versions{$j->{version} // 'none'}++;
                } elsif ($r->{code} == 409 && ($j->{error}{code} // '') eq 'conflict') {
                    $conflicts++;
                } else {
                    push @bad, "round $round: $r->{code} $r->{body}";
                }
            }
        }
        Test::More::is("@bad", "", "$name - only 200s with distinct versions and 409 conflicts");
        Test::More::diag("$name: $wins committed, $conflicts conflicts");
        $main::race_wins = $wins;
    },
    1 => sub {
        my $j = DDTTest::decode($_[1]) || {};
        Test::More::is($j->{version}, 1 + $main::race_wins,
                       $_[0]->name . " - the version counts every committed turn");
    },
}
--- no_error_log
[error]
[alert]

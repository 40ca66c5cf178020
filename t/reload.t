# t/reload.t: hot reload of a project through the admin location during a
# conversation (SPEC 6, 9.5): PUT compiles and publishes a new load to every
# worker without an nginx reload; sessions stay pinned to the load they
# started on; identical content is a 200 no-op; GET /v1/projects shows the
# current load.
use FindBin;
use lib "$FindBin::Bin/inc";
use Test::Nginx::Socket 'no_plan';
use DDTTest;

no_shuffle();

DDTTest::defaults(
    http_config => <<'_EOC_',
    ddt_test_now 2026-11-26T10:00:00Z;
    ddt_project $TEST_NGINX_DDT_PROJECTS/reload.json;
_EOC_
    config => $DDTTest::ApiConfig,
    more_headers => "Content-Type: application/json",
);

# reload.json with its texts and version changed
sub v2 {
    my $p = do {
        local $/;
        open my $f, '<', "$ENV{TEST_NGINX_DDT_PROJECTS}/reload.json" or die;
        <$f>
    };
    $p =~ s/"version": "v1"/"version": "v2"/ or die;
    $p =~ s/Version one\./Version two./ or die;
    $p =~ s/One: \{r\.word\}\./Two: {r.word}./ or die;
    return $p;
}

sub turn { my ($id, $body) = @_; "POST /v1/sessions/$id/turns\n$body" }

run_tests();

__DATA__

=== TEST 1: a PUT during a conversation: old sessions keep v1, new ones get v2
--- request eval
[
"POST /v1/sessions\n{\"project\": \"reload\", \"sessionId\": \"reload-old-01\"}",
"PUT /v1/projects/reload\n" . main::v2(),
"PUT /v1/projects/reload\n" . main::v2(),
"GET /v1/projects",
"POST /v1/sessions\n{\"project\": \"reload\", \"sessionId\": \"reload-new-01\"}",
main::turn("reload-old-01", '{"text": "apple"}'),
main::turn("reload-new-01", '{"text": "pear"}'),
"GET /v1/sessions/reload-old-01",
"GET /v1/sessions/reload-new-01",
"GET /v1/projects/reload",
]
--- error_code eval
[201, 201, 200, 200, 201, 200, 200, 200, 200, 200]
--- json eval
[
 { 'messages.0.text' => 'Version one.', 'messages.1.text' => 'Say a word.' },
 { name => 'reload', version => 'v2', checksum => qr/\S/, warnings => [] },
 { name => 'reload', version => 'v2' },
 { projects => qr/"current":true[^}]*"version":"v2"|"version":"v2"[^}]*"current":true/ },
 { 'messages.0.text' => 'Version two.' },
 { status => 'ended', 'messages.0.text' => 'One: apple.' },
 { status => 'ended', 'messages.0.text' => 'Two: pear.' },
 { projectVersion => 'v1' },
 { projectVersion => 'v2' },
 undef,
]
--- response_body_like eval
[ ('.') x 9, '"v2"' ]
--- no_error_log
[error]



=== TEST 2: the checksum changes with the content and is stable for the same content
--- request eval
[
"GET /v1/projects",
"PUT /v1/projects/reload\n" . main::v2(),
"GET /v1/projects",
]
--- error_code eval
[200, 201, 200]
--- after eval
{
    0 => sub {
        my $p = DDTTest::decode($_[1])->{projects};
        ($main::sum1) = map { $_->{checksum} } grep { $_->{name} eq 'reload' } @$p;
    },
    1 => sub {
        my $r = DDTTest::decode($_[1]);
        Test::More::isnt($r->{checksum}, $main::sum1,
                         $_[0]->name . " - new content, new checksum");
        $main::sum2 = $r->{checksum};
    },
    2 => sub {
        my $p = DDTTest::decode($_[1])->{projects};
        my ($cur) = grep { $_->{name} eq 'reload' && $_->{current} } @$p;
        Test::More::is($cur && $cur->{checksum}, $main::sum2,
                       $_[0]->name . " - the current row has the new checksum");
    },
}
--- no_error_log
[error]



=== TEST 3: a new project name can be published at run time
--- request eval
my $p = main::v2();
$p =~ s/"name": "reload"/"name": "fresh"/ or die;
[
"PUT /v1/projects/fresh\n$p",
"POST /v1/sessions\n{\"project\": \"fresh\", \"sessionId\": \"reload-fresh1\"}",
]
--- error_code eval
[201, 201]
--- json eval
[ { name => 'fresh' }, { 'messages.0.text' => 'Version two.' } ]
--- no_error_log
[error]



=== TEST 4: a session pinned to a superseded load survives several PUTs
--- request eval
my @puts;
for my $n (3 .. 7) {
    my $p = main::v2();
    $p =~ s/"version": "v2"/"version": "v$n"/;
    $p =~ s/Two:/V$n:/;
    push @puts, "PUT /v1/projects/reload\n$p";
}
[
"POST /v1/sessions\n{\"project\": \"reload\", \"sessionId\": \"reload-pin-01\"}",
@puts,
main::turn("reload-pin-01", '{"text": "kiwi"}'),
]
--- error_code eval
[201, 201, 201, 201, 201, 201, 200]
--- json eval
[ undef, undef, undef, undef, undef, undef,
  { 'messages.0.text' => 'One: kiwi.' } ]
--- no_error_log
[error]

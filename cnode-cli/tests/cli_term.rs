//! `cnode term decode` and `cnode term encode`, run as the built binary on
//! the dumps in `testdata/etf/` (made by OTP 25, see `testdata/README.md`),
//! on malformed input, and against real `erl` for the encode direction.

use interop_tests::{hex, Oracle, Otp};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/etf")
        .join(name)
}

fn sample_bytes(name: &str) -> Vec<u8> {
    let path = sample(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Runs `cnode` with `args`, feeding `stdin`, and waits for it.
fn cnode(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cnode"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cnode starts");
    let mut input = child.stdin.take().expect("piped stdin");
    // Fed from another thread: `decode` streams, printing while it reads.
    // A failing command may exit before reading; a broken pipe is fine then.
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let _ = input.write_all(stdin);
        });
        child.wait_with_output().expect("cnode runs")
    })
}

fn stdout_text(output: &Output) -> String {
    assert!(
        output.status.success(),
        "cnode failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// Asserts that `output` is a failure with exit status 1, nothing on stdout
/// and exactly one line on stderr containing every string in `needles`.
fn assert_one_line_error(output: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "stdout: {:?}", output.stdout);
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    for needle in needles {
        assert!(stderr.contains(needle), "{stderr:?} lacks {needle:?}");
    }
}

#[test]
fn decode_prints_erlang_syntax_for_every_sample() {
    let expected = [
        (
            "record.bin",
            r#"{user,<<"ada">>,36,[admin,"ops"],#{active => true,score => 9.5}}"#,
        ),
        (
            "numbers.bin",
            "[0,-1,255,256,2147483648,-18446744073709551616,1267650600228229401496703205376,0.1,-2.5e-300]",
        ),
        ("unicode.bin", r#"{'ö中',<<"héllo"/utf8>>,"中文",caf}"#),
        (
            "identifiers.bin",
            "{#Pid<'a@b'.5.1.9>,#Ref<'a@b'.1.2.3.7>,fun lists:sort/1,<<5:3>>,[a|b]}",
        ),
        (
            "map_keys.bin",
            r#"#{1 => int,1.0 => float,k => atom,{t} => tuple,<<"k">> => bin}"#,
        ),
    ];
    for (file, text) in expected {
        let path = sample(file);
        let output = cnode(&["term", "decode", path.to_str().expect("UTF-8 path")], b"");
        assert_eq!(stdout_text(&output), format!("{text}\n"), "{file}");
    }
}

#[test]
fn decode_reads_compressed_dumps_from_stdin() {
    let expected = format!("[{}]\n", vec![r#"<<"abcabcabc">>"#; 20].join(","));
    let dump = sample_bytes("compressed.bin");
    assert_eq!(dump[..2], [131, 80], "the sample is compressed");
    assert_eq!(stdout_text(&cnode(&["term", "decode"], &dump)), expected);
    assert_eq!(
        stdout_text(&cnode(&["term", "decode", "-"], &dump)),
        expected
    );
}

#[test]
fn decode_pretty_breaks_long_terms_into_lines_that_parse_back() {
    let dump = sample_bytes("compressed.bin");
    let pretty = stdout_text(&cnode(&["term", "decode", "--pretty"], &dump));
    let lines: Vec<&str> = pretty.lines().collect();
    assert!(lines.len() > 1, "one line: {pretty}");
    assert!(
        lines.iter().all(|line| line.chars().count() <= 80),
        "a line is wider than 80 columns:\n{pretty}"
    );
    let encoded = cnode(&["term", "encode", "--compressed=9"], pretty.as_bytes());
    let plain = cnode(&["term", "decode"], &encoded.stdout);
    let one_line = stdout_text(&cnode(&["term", "decode"], &dump));
    assert_eq!(stdout_text(&plain), one_line);

    let short = stdout_text(&cnode(
        &["term", "decode", "--pretty"],
        &sample_bytes("unicode.bin"),
    ));
    assert_eq!(
        short, "{'ö中',<<\"héllo\"/utf8>>,\"中文\",caf}\n",
        "short terms stay on one line"
    );

    let json = stdout_text(&cnode(
        &["term", "decode", "--json", "--pretty"],
        &sample_bytes("unicode.bin"),
    ));
    assert_eq!(
        json,
        "[\n  \"ö中\",\n  \"héllo\",\n  [\n    20013,\n    25991\n  ],\n  \"caf\"\n]\n"
    );
}

#[test]
fn decode_json_follows_the_documented_mapping() {
    let record = cnode(&["term", "decode", "--json"], &sample_bytes("record.bin"));
    assert_eq!(
        stdout_text(&record),
        r#"["user","ada",36,["admin",[111,112,115]],{"active":true,"score":9.5}]"#.to_owned()
            + "\n"
    );
    let numbers = cnode(&["term", "decode", "--json"], &sample_bytes("numbers.bin"));
    assert_eq!(
        stdout_text(&numbers),
        "[0,-1,255,256,2147483648,\"-18446744073709551616\",\
         \"1267650600228229401496703205376\",0.1,-2.5e-300]\n"
    );
    // Keys of several types: an array of pairs, not an object.
    let keys = cnode(&["term", "decode", "--json"], &sample_bytes("map_keys.bin"));
    assert_eq!(
        stdout_text(&keys),
        r#"[[1,"int"],[1.0,"float"],["k","atom"],[["t"],"tuple"],["k","bin"]]"#.to_owned() + "\n"
    );
    let ids = cnode(
        &["term", "decode", "--json"],
        &sample_bytes("identifiers.bin"),
    );
    assert_eq!(
        stdout_text(&ids),
        r##"["#Pid<'a@b'.5.1.9>","#Ref<'a@b'.1.2.3.7>","fun lists:sort/1","<<5:3>>","[a|b]"]"##
            .to_owned()
            + "\n"
    );
}

/// OTP 29 native records: a dump OTP 29 writes now (the record of issue 13,
/// made by `binary_to_term/1` from the bytes OTP 29 sends for
/// `#nr:point{x = 1, y = 2}`), and `testdata/etf/native_records.bin`
/// (written by OTP 29 with module `nr` loaded, see `etf/tests/native_records.rs`).
#[test]
fn decode_prints_otp29_native_records_as_erl_does() {
    let mut oracle = Oracle::start(&Otp::v29()).expect("OTP 29 oracle starts");
    let issue13 = "binary_to_term(<<131,67,0,0,0,2,0,119,2,\"nr\",119,5,\"point\",\
                   119,1,\"x\",119,1,\"y\",97,1,97,2>>)";
    let dump = oracle
        .term_to_binary(issue13, "[]")
        .expect("OTP 29 writes the record");
    assert_eq!(dump[..2], [131, 67], "{}", hex(&dump));
    let text = stdout_text(&cnode(&["term", "decode"], &dump));
    assert_eq!(text, "#nr:point{x = 1,y = 2}\n");
    let json = stdout_text(&cnode(&["term", "decode", "--json"], &dump));
    assert_eq!(json, "{\"#nr:point\":{\"x\":1,\"y\":2}}\n");
    // And back: encoding the printed text gives OTP 29's bytes.
    let encoded = cnode(&["term", "encode"], text.as_bytes());
    assert!(encoded.status.success(), "{encoded:?}");
    assert_eq!(encoded.stdout, dump);

    let all = stdout_text(&cnode(
        &["term", "decode"],
        &sample_bytes("native_records.bin"),
    ));
    assert!(
        all.starts_with("[#nr:point{x = 1,y = 2},#nr:zeta{z = 1,a = 2,m = 3},#nr:empty{},"),
        "{all}"
    );
}

#[test]
fn decode_errors_are_one_line_with_the_byte_offset() {
    // A tuple whose second element has an unknown tag.
    let bad_tag = cnode(&["term", "decode"], &[131, 104, 2, 97, 1, 255]);
    assert_one_line_error(&bad_tag, &["stdin", "unknown tag 255", "at byte 5"]);

    let bad_version = cnode(&["term", "decode"], &[130, 106]);
    assert_one_line_error(&bad_version, &["version byte 130", "at byte 0"]);

    let trailing = cnode(&["term", "decode"], &[131, 106, 106]);
    assert_one_line_error(&trailing, &["trailing", "at byte 2"]);

    let record = sample_bytes("record.bin");
    for cut in [1, 2, 10, record.len() / 2, record.len() - 1] {
        let truncated = cnode(&["term", "decode"], &record[..cut]);
        assert_one_line_error(&truncated, &["truncated", "at byte"]);
    }

    let mut corrupt = sample_bytes("compressed.bin");
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    corrupt[10] ^= 0x55;
    let zlib = cnode(&["term", "decode"], &corrupt);
    assert_one_line_error(&zlib, &["at byte"]);

    let missing = cnode(&["term", "decode", "/nonexistent/dump.bin"], b"");
    assert_one_line_error(&missing, &["cannot read /nonexistent/dump.bin"]);
}

#[test]
fn encode_writes_the_bytes_erl_wrote() {
    // OTP 25 wrote record.bin with `[deterministic]` and its default
    // minor version 1, which writes Latin-1 atoms as ATOM_EXT.
    let text = r#"{user, <<"ada">>, 36, [admin, "ops"], #{score => 9.5, active => true}}."#;
    let output = cnode(
        &["term", "encode", "--minor-version", "1", "--deterministic"],
        text.as_bytes(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = sample_bytes("record.bin");
    assert_eq!(
        output.stdout,
        expected,
        "\n ours: {}\n erl:  {}",
        hex(&output.stdout),
        hex(&expected)
    );
}

#[test]
fn encode_then_decode_gives_back_the_text() {
    let dir = std::env::temp_dir().join(format!("cnode-cli-term-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let text =
        r#"{ok,[1,2.5,"str",<<"bin">>,#{k => [a|b]}],-123456789012345678901234567890,<<1:1>>}"#;
    for options in [
        &[][..],
        &["--compressed"][..],
        &["--compressed=9", "--minor-version", "0"][..],
    ] {
        let out = dir.join("term.bin");
        let out_arg = out.to_str().expect("UTF-8 path");
        let mut args = vec!["term", "encode", "-o", out_arg];
        args.extend_from_slice(options);
        let encoded = cnode(&args, text.as_bytes());
        assert!(
            encoded.status.success(),
            "{}",
            String::from_utf8_lossy(&encoded.stderr)
        );
        assert!(encoded.stdout.is_empty());
        let decoded = cnode(&["term", "decode", out_arg], b"");
        assert_eq!(
            stdout_text(&decoded),
            format!("{text}\n"),
            "options {options:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn encode_errors_name_line_and_column() {
    let unclosed = cnode(&["term", "encode"], b"{ok,\n  [1, 2");
    assert_one_line_error(&unclosed, &["stdin", "line 2, column 8"]);
    let variable = cnode(&["term", "encode"], b"{ok, X}");
    assert_one_line_error(&variable, &["line 1, column 6", "variable"]);
    let not_utf8 = cnode(&["term", "encode"], &[b'"', 0xff, b'"']);
    assert_one_line_error(&not_utf8, &["not UTF-8"]);
    let bad_level = cnode(&["term", "encode", "--compressed=10"], b"ok");
    assert_eq!(bad_level.status.code(), Some(2), "clap rejects the level");
}

/// The interop check: what `cnode term encode` writes, erl's
/// `binary_to_term/1` reads as the term the text denotes, on OTP 25, 27, 28 and 29.
#[test]
fn erl_decodes_what_encode_writes() {
    // (our text, the same term as an Erlang expression)
    let terms = [
        (
            r#"{ok, [1, 2.5, "str", <<"bin">>, #{k => [a | b]}]}"#,
            r#"{ok, [1, 2.5, "str", <<"bin">>, #{k => [a | b]}]}"#,
        ),
        ("[-1180591620717411303424]", "[-(1 bsl 70)]"),
        (
            "#{1 => int, 1.0 => float, 'quoted atom' => <<1:3>>, 'ö中' => \"中文\"}",
            "#{1 => int, 1.0 => float, 'quoted atom' => <<1:3>>, 'ö中' => \"中文\"}",
        ),
        (
            "{'', [], {}, <<>>, -0.0, 2.2250738585072014e-308, fun lists:map/2}",
            "<<NegZero:64/float>> = <<16#8000000000000000:64>>, \
             {'', [], {}, <<>>, NegZero, 2.2250738585072014e-308, fun lists:map/2}",
        ),
    ];
    for otp in Otp::all() {
        let mut oracle = Oracle::start(&otp).expect("oracle starts");
        for (text, erl_text) in terms {
            for options in [
                &[][..],
                &["--compressed=1"][..],
                &["--minor-version", "1", "--deterministic"][..],
            ] {
                let mut args = vec!["term", "encode"];
                args.extend_from_slice(options);
                let output = cnode(&args, text.as_bytes());
                assert!(
                    output.status.success(),
                    "{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                let same = oracle.decodes_to(&output.stdout, erl_text);
                assert!(
                    matches!(same, Ok(true)),
                    "OTP {}: {text} with {options:?}: {same:?}\n  bytes: {}\n  erl sees: {}",
                    otp.release,
                    hex(&output.stdout),
                    oracle.show(&output.stdout)
                );
            }
        }
    }
}

/// `term_to_binary` of `depth` levels alternating a tuple and a one-element
/// list around `[]`, outermost a tuple: `{[{[...[]...]}]}`.
fn deep_dump(depth: usize) -> Vec<u8> {
    let mut bytes = vec![131];
    for level in 0..depth {
        if level % 2 == 0 {
            bytes.extend_from_slice(&[104, 1]);
        } else {
            bytes.extend_from_slice(&[108, 0, 0, 0, 1]);
        }
    }
    bytes.push(106);
    // The NIL tail of each list, innermost first.
    bytes.extend(std::iter::repeat_n(106, depth / 2));
    bytes
}

#[test]
fn decode_and_encode_handle_a_million_levels() {
    const DEPTH: usize = 1_000_000;
    let dump = deep_dump(DEPTH);
    let text = "{[".repeat(DEPTH / 2) + "[]" + &"]}".repeat(DEPTH / 2);

    let printed = stdout_text(&cnode(&["term", "decode"], &dump));
    assert!(printed == format!("{text}\n"), "decode prints the term");
    let pretty = stdout_text(&cnode(&["term", "decode", "--pretty"], &dump));
    assert_eq!(pretty.replace(['\n', ' '], ""), text);
    let json = stdout_text(&cnode(&["term", "decode", "--json"], &dump));
    let brackets = "[".repeat(DEPTH) + "[]" + &"]".repeat(DEPTH);
    assert!(json == format!("{brackets}\n"), "decode --json");
    let json_pretty = stdout_text(&cnode(&["term", "decode", "--json", "--pretty"], &dump));
    assert_eq!(json_pretty.replace(['\n', ' '], ""), brackets);

    for input in [text.as_str(), pretty.as_str()] {
        let encoded = cnode(&["term", "encode"], input.as_bytes());
        assert!(
            encoded.status.success(),
            "{}",
            String::from_utf8_lossy(&encoded.stderr)
        );
        assert!(encoded.stdout == dump, "encode writes erl's bytes back");
    }
}

/// `term_to_binary` of a list of `rows` maps `#{id => I, name => <<"row">>}`
/// (I from 0), written to `sink` a row at a time; returns the Erlang text
/// `cnode term decode` must print for it, as its length.
fn write_rows(rows: u32, sink: &mut impl Write) -> std::io::Result<u64> {
    // MAP(2): id => INTEGER I, name => BINARY "row".
    let mut row = vec![116, 0, 0, 0, 2, 119, 2, b'i', b'd', 98, 0, 0, 0, 0];
    row.extend_from_slice(&[
        119, 4, b'n', b'a', b'm', b'e', 109, 0, 0, 0, 3, b'r', b'o', b'w',
    ]);
    let mut chunk = vec![131, 108];
    chunk.extend_from_slice(&rows.to_be_bytes());
    // `[` `]` and the newline, commas, and per row `#{id => ,name => <<"row">>}`.
    let mut text_len = 3 + u64::from(rows.saturating_sub(1));
    for i in 0..rows {
        row[10..14].copy_from_slice(&i.to_be_bytes());
        chunk.extend_from_slice(&row);
        text_len += 27 + i.to_string().len() as u64;
        if chunk.len() > 1 << 16 {
            sink.write_all(&chunk)?;
            chunk.clear();
        }
    }
    chunk.push(106);
    sink.write_all(&chunk)?;
    Ok(text_len)
}

/// The peak resident memory of process `pid` so far, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A dump of 250,000 maps (7 MB; holding it, its term and its text took
/// 89-90 MB of peak RSS before `decode` streamed, 6.5 MB since, release
/// builds) is printed, as text and as JSON, within 24 MiB of resident
/// memory, most of it the (debug) binary itself. The dump is made and the output
/// counted as they stream (the test holds neither), and the peak RSS is
/// sampled from /proc while the command runs (it is reached early and
/// held). The size is kept small because the debug binary is slow; see
/// `scripts/bench-dump.sh` for 79 MB and 1 GB dumps.
#[test]
fn decode_streams_a_dump_larger_than_its_memory() {
    const ROWS: u32 = 250_000;
    const LIMIT_KIB: u64 = 24 << 10;
    for json in [false, true] {
        let mut args = vec!["term", "decode"];
        if json {
            args.push("--json");
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_cnode"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cnode starts");
        let pid = child.id();
        let mut input = child.stdin.take().expect("piped stdin");
        let writer = std::thread::spawn(move || {
            let mut counted = CountingWriter(&mut input, 0);
            let text_len = write_rows(ROWS, &mut counted).expect("cnode reads it all");
            (text_len, counted.1)
        });
        let mut output = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            let mut head = [0u8; 16];
            let mut total = 0u64;
            let mut tail = Vec::new();
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = std::io::Read::read(&mut output, &mut buf).expect("reads");
                if n == 0 {
                    break;
                }
                if total < 16 {
                    let k = (16 - total as usize).min(n);
                    head[total as usize..total as usize + k].copy_from_slice(&buf[..k]);
                }
                total += n as u64;
                tail.extend_from_slice(&buf[..n]);
                let keep = tail.len().saturating_sub(64);
                tail.drain(..keep);
            }
            (head, total, tail)
        });
        let mut peak = 0;
        while child.try_wait().expect("waits").is_none() {
            peak = peak.max(peak_rss_kib(pid).unwrap_or(0));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let status = child.wait().expect("exits");
        let (text_len, dump_len) = writer.join().expect("writer");
        let (head, printed, tail) = reader.join().expect("reader");
        assert!(status.success(), "json: {json}");
        assert!(dump_len > 7_000_000, "a dump of {dump_len} bytes");
        assert!(
            peak > 0 && peak < LIMIT_KIB,
            "json: {json}: peak RSS {peak} KiB"
        );
        let (first, last) = if json {
            (
                &br#"[{"id":0,"name":"row"}"#[..16],
                &br#"{"id":249999,"name":"row"}]"#[..],
            )
        } else {
            (
                &b"[#{id => 0,name => <<\"row\">>}"[..16],
                &b"#{id => 249999,name => <<\"row\">>}]"[..],
            )
        };
        assert_eq!(&head[..], first);
        assert!(tail.ends_with(&[last, b"\n"].concat()), "json: {json}");
        if !json {
            assert_eq!(printed, text_len);
        }
    }
}

/// Counts the bytes written through it.
struct CountingWriter<W>(W, u64);

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1 += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// `encode` of 250,000 maps in one list (about 16 MB of text; holding the
/// text and its term took well over 100 MB before `encode` streamed) stays
/// within 24 MiB of resident memory, most of it the (debug) binary, and
/// writes the bytes of the whole-term encoder. The text ends with a large
/// tuple, a list that is a STRING and a tail that is a list, whose headers
/// are only known at their close. The text is fed from a thread and the
/// peak RSS sampled from /proc as for `decode` above.
#[test]
fn encode_streams_a_text_larger_than_its_memory() {
    const ROWS: u32 = 250_000;
    const LIMIT_KIB: u64 = 24 << 10;
    let mut text = String::from("[\n");
    for i in 0..ROWS {
        text.push_str(&format!(
            "#{{id => {i}, name => <<\"row{i}\">>, tags => [a, 'b c'], score => {}}},\n",
            f64::from(i) / 7.0
        ));
    }
    let ints: Vec<String> = (0..70_000).map(|i| (i % 300).to_string()).collect();
    let bytes: Vec<String> = (0..60_000).map(|i| (i % 256).to_string()).collect();
    text.push_str(&format!(
        "{{{}}}, % a large tuple\n [{}], \"text\" | [7, 8 | [9]]].\n",
        ints.join(", "),
        bytes.join(",")
    ));
    let expected = etf::parse_term(&text)
        .expect("parses")
        .encode(&etf::EncodeOptions::new())
        .expect("encodes");

    let mut child = Command::new(env!("CARGO_BIN_EXE_cnode"))
        .args(["term", "encode"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cnode starts");
    let pid = child.id();
    let mut input = child.stdin.take().expect("piped stdin");
    let text_len = text.len();
    let writer = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let mut output = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut output, &mut bytes).map(|_| bytes)
    });
    let mut peak = 0;
    while child.try_wait().expect("waits").is_none() {
        peak = peak.max(peak_rss_kib(pid).unwrap_or(0));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = child.wait().expect("exits");
    writer.join().expect("writer").expect("cnode reads it all");
    let written = reader.join().expect("reader").expect("reads");
    assert!(status.success());
    assert!(text_len > 15_000_000, "a text of {text_len} bytes");
    assert!(peak > 0 && peak < LIMIT_KIB, "peak RSS {peak} KiB");
    assert!(written == expected, "the whole-term encoder's bytes");
}

/// Streaming `encode` reports errors inside a large list at their line and
/// column in the whole text, and leaves no partial output file.
#[test]
fn encode_streaming_errors_name_line_and_column() {
    let dir = std::env::temp_dir().join(format!("cnode-enc-err-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let out = dir.join("out.etf");
    let mut text = String::from("[");
    for i in 0..20_000 {
        text.push_str(&format!("{{{i}, ok}},\n"));
    }
    text.push_str("{1, ok}, {2 oops}]");
    let output = cnode(
        &["term", "encode", "-o", out.to_str().expect("utf-8 path")],
        text.as_bytes(),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("stdin: line 20001, column 13: "),
        "{stderr}"
    );
    assert!(!out.exists(), "no partial output");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Streaming `encode` writes most elements straight from their text (a
/// fast path for the common forms) and the rest through the parser: on a
/// large list mixing both, nested and odd forms included, its bytes are the
/// whole-term encoder's for every option it streams with, and `decode`
/// prints the text back as the printer does.
#[test]
fn encode_fast_path_matches_the_parser_on_mixed_elements() {
    let forms = [
        "ok",
        "'EXIT'",
        "'a\\'b'",
        "\"plain\"",
        "\"esc\\n\"",
        "\"a\" \"b\"",
        "\"\"",
        "<<\"bin\">>",
        "<<1,2,255>>",
        "<<1:1>>",
        "<<\"é\"/utf8>>",
        "[]",
        "[1,2,3]",
        "[1,256]",
        "[a|b]",
        "[1 | [2, 3]]",
        "{}",
        "{a, {b, [c, \"d\"]}, #{}}",
        "#{a => 1, b => #{c => [d, 2.5]}}",
        "#{a => 1, a => 2}",
        "#{1 => x, 1.0 => y}",
        "#{#{k => v} => 1, z => 2}",
        "-17",
        "-0.0",
        "1.0e300",
        "2147483648",
        "-9223372036854775808",
        "123456789012345678901234567890",
        "16#FF",
        "$a",
        "héllo",
        "fun erlang:abs/1",
        "% a comment\n ok",
        "{1,\n 2}",
        "[[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]",
    ];
    let mut text = String::from("[\n");
    let mut i = 0;
    while text.len() < 300_000 {
        text.push_str(forms[i % forms.len()]);
        text.push_str(if i % 7 == 0 { " ,\n" } else { "," });
        i += 1;
    }
    text.push_str("end_marker]");
    for options in [
        &[][..],
        &["--minor-version", "1"][..],
        &["--minor-version", "0"][..],
        &["--deterministic"][..],
    ] {
        let minor = match options {
            ["--minor-version", v] => v.parse().expect("a number"),
            _ => 2,
        };
        let opts = etf::EncodeOptions::new()
            .minor_version(minor)
            .deterministic(options.contains(&"--deterministic"));
        let term = etf::parse_term(&text).expect("parses");
        let expected = term.encode(&opts).expect("encodes");
        let mut args = vec!["term", "encode"];
        args.extend_from_slice(options);
        let output = cnode(&args, text.as_bytes());
        assert!(
            output.status.success(),
            "{options:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.stdout == expected, "{options:?}: the parser's bytes");
        if options.is_empty() {
            let decoded = cnode(&["term", "decode"], &output.stdout);
            assert_eq!(stdout_text(&decoded), format!("{term}\n"));
        }
    }
}

/// A syntax error in an element the fast path would take is still
/// reported by the parser, at its line and column in the whole text.
#[test]
fn encode_fast_path_errors_name_line_and_column() {
    let mut text = String::from("[");
    for i in 0..5_000 {
        text.push_str(&format!("#{{id => {i}, name => <<\"n{i}\">>}},\n"));
    }
    text.push_str("#{id => 1, name <<\"x\">>}]");
    let output = cnode(&["term", "encode"], text.as_bytes());
    assert_one_line_error(&output, &["stdin", "line 5001, column 17"]);
    let deep = format!("[{}{}]", "[".repeat(100_000), "]".repeat(100_000));
    let output = cnode(&["term", "encode"], deep.as_bytes());
    assert!(output.status.success());
    let decoded = cnode(&["term", "decode"], &output.stdout);
    assert_eq!(stdout_text(&decoded), format!("{deep}\n"));
}

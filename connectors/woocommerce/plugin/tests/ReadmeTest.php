<?php
/**
 * readme.txt and the plugin header against the WordPress.org plugin directory's rules: the
 * standard headers, a short description of at most 150 characters, at most 5 tags, the
 * Stable tag equal to the plugin's Version, the standard sections plus "External services",
 * a changelog entry for this version, and a Plugin URI that is no placeholder.
 *
 * @package RelaySms
 */

use PHPUnit\Framework\TestCase;

final class ReadmeTest extends TestCase {

	private static function readme() {
		$text = str_replace( "\r\n", "\n", file_get_contents( dirname( __DIR__ ) . '/relay-sms/readme.txt' ) );
		$lines = explode( "\n", $text );
		self::assertMatchesRegularExpression( '/^=== (.+) ===$/', $lines[0], 'the first line is === Plugin Name ===' );
		$headers = array();
		$i       = 1;
		for ( ; $i < count( $lines ) && '' !== trim( $lines[ $i ] ); $i++ ) {
			self::assertMatchesRegularExpression( '/^([A-Za-z ]+):\s*(.+)$/', $lines[ $i ], 'a header line' );
			list( $name, $value )      = array_map( 'trim', explode( ':', $lines[ $i ], 2 ) );
			$headers[ strtolower( $name ) ] = $value;
		}
		for ( ; '' === trim( $lines[ $i ] ); $i++ ) {
		}
		preg_match_all( '/^== (.+) ==$/m', $text, $sections );
		return array( trim( substr( $lines[0], 4, -4 ) ), $headers, trim( $lines[ $i ] ), $sections[1], $text );
	}

	private static function plugin_headers() {
		$main = file_get_contents( dirname( __DIR__ ) . '/relay-sms/relay-sms.php' );
		preg_match_all( '/^ \* ([A-Za-z ]+):\s+(.+)$/m', substr( $main, 0, 2000 ), $m, PREG_SET_ORDER );
		$headers = array();
		foreach ( $m as $match ) {
			$headers[ strtolower( trim( $match[1] ) ) ] = trim( $match[2] );
		}
		return $headers;
	}

	public function test_readme_has_every_standard_header() {
		list( $name, $headers ) = self::readme();
		$plugin                  = self::plugin_headers();
		$this->assertSame( $plugin['plugin name'], $name );
		foreach ( array( 'contributors', 'tags', 'requires at least', 'tested up to', 'requires php', 'stable tag', 'license', 'license uri' ) as $header ) {
			$this->assertArrayHasKey( $header, $headers, "readme.txt lacks '$header'" );
			$this->assertNotSame( '', $headers[ $header ] );
		}
		$this->assertMatchesRegularExpression( '/^[a-z0-9]+(, ?[a-z0-9]+)*$/', $headers['contributors'], 'WordPress.org user names' );
		$this->assertLessThanOrEqual( 5, count( explode( ',', $headers['tags'] ) ), 'at most 5 tags' );
		$this->assertNotSame( 'trunk', $headers['stable tag'] );
		$this->assertSame( $plugin['version'], $headers['stable tag'], 'Stable tag is the plugin Version' );
		$this->assertSame( $plugin['requires at least'], $headers['requires at least'] );
		$this->assertSame( $plugin['requires php'], $headers['requires php'] );
		$this->assertMatchesRegularExpression( '/^\d+\.\d+(\.\d+)?$/', $headers['tested up to'] );
		$this->assertStringContainsString( 'GPL', $headers['license'] );
		$this->assertStringStartsWith( 'https://www.gnu.org/licenses/', $headers['license uri'] );
	}

	public function test_short_description_and_sections() {
		list( , , $short, $sections, $text ) = self::readme();
		$this->assertNotSame( '', $short );
		$this->assertStringStartsNotWith( '==', $short );
		$this->assertLessThanOrEqual( 150, strlen( $short ), 'the short description has at most 150 characters' );
		foreach ( array( 'Description', 'External services', 'Installation', 'Frequently Asked Questions', 'Changelog', 'Upgrade Notice' ) as $section ) {
			$this->assertContains( $section, $sections );
		}
		$version = self::plugin_headers()['version'];
		$this->assertMatchesRegularExpression( '/== Changelog ==\n\n= ' . preg_quote( $version, '/' ) . ' =\n/', $text, 'a changelog entry for this version' );
		// The external service: what is sent, when, and where the terms and privacy are.
		$external = substr( $text, strpos( $text, '== External services ==' ) );
		$external = substr( $external, 0, strpos( $external, "\n== ", 5 ) );
		foreach ( array( 'phone number', 'consent wording', 'IP', '/v1/events', '/v1/account', 'terms', 'privacy policy' ) as $needle ) {
			$this->assertStringContainsString( $needle, $external );
		}
	}

	public function test_plugin_header_is_complete_and_no_placeholder() {
		$plugin = self::plugin_headers();
		foreach ( array( 'plugin name', 'plugin uri', 'description', 'version', 'requires at least', 'requires php', 'author', 'license', 'license uri', 'text domain', 'domain path' ) as $header ) {
			$this->assertArrayHasKey( $header, $plugin, "the plugin header lacks '$header'" );
		}
		$this->assertStringNotContainsString( 'example', $plugin['plugin uri'] );
		$this->assertFileExists( dirname( __DIR__, 4 ) . '/' . $plugin['plugin uri'], 'the Plugin URI is the repository\'s own docs page' );
		$this->assertSame( $plugin['version'], constant( 'RELAY_SMS_TEST_VERSION' ) );
	}
}

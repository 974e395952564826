<?php
/**
 * Relay_SMS_Cabinet: which answers of the relay are a link to follow.
 *
 * @package RelaySms
 */

use PHPUnit\Framework\TestCase;

final class CabinetTest extends TestCase {

	const RELAY = 'https://relay.example';

	public function test_a_201_with_a_link_on_the_relays_host_is_followed() {
		$body = '{"url": "https://relay.example/cabinet/sso?token=abc.def", "expires_in": 120}';
		$this->assertSame( 'https://relay.example/cabinet/sso?token=abc.def', Relay_SMS_Cabinet::link_from_response( 201, $body, self::RELAY ) );
	}

	public function test_anything_else_is_refused() {
		$this->assertNull( Relay_SMS_Cabinet::link_from_response( 403, '{"error": {"code": "insufficient_scope"}}', self::RELAY ) );
		$this->assertNull( Relay_SMS_Cabinet::link_from_response( 201, 'not json', self::RELAY ) );
		$this->assertNull( Relay_SMS_Cabinet::link_from_response( 201, '{"url": "https://evil.example/cabinet/sso?token=x"}', self::RELAY ) );
		$this->assertNull( Relay_SMS_Cabinet::link_from_response( 201, '{"url": "javascript:alert(1)"}', self::RELAY ) );
		$this->assertNull( Relay_SMS_Cabinet::link_from_response( 201, '{"url": "https://relay.example/elsewhere"}', self::RELAY ) );
	}
}
